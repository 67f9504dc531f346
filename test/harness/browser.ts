import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (playwright's own browser download cannot be reached from here). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium driven by playwright-core. Fails with what to install when the
 * browser is missing (scripts/test and .ci/run install Debian's `chromium`).
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(
      `no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Without these, Chromium keeps trying to reach Google's services, which a closed
    // network refuses; as root it needs --no-sandbox.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
