import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi } from '../scripts/build-ui.js';
import { createKey } from '../src/api/keys.js';
import type { Config } from '../src/config/index.js';
import { packageRoot } from '../src/paths.js';
import { makePdf } from '../src/consumers/parser/test-files.js';
import { ClaimCheck, claimCheckPrefix } from '../src/producers/sdk/claim-check.js';
import { Subjects, bodiesBucket } from '../src/topology/index.js';
import { launchBrowser } from './harness/browser.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client } from './harness/http.js';

/** The element that has the keyboard's focus. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = (
      globalThis as unknown as {
        document: { activeElement: { id: string; textContent: string | null } | null };
      }
    ).document.activeElement;
    return el ? { id: el.id, text: el.textContent } : null;
  });

/** Screenshots of each page, kept as test artifacts (two are in the README). */
const shots = join(packageRoot, 'test-artifacts', 'ui');

/**
 * The dashboard in a real browser (Debian's headless Chromium, driven by
 * playwright-core) against a real Sluice: sign in, watch documents reach "indexed",
 * redrive a dead letter from the page, search in every mode, see an uploaded PDF's own
 * title, author and language on its document page, and see that a tenant's
 * key shows neither another tenant's collections nor the admin actions.
 */
describe('the dashboard at /ui', () => {
  let t: TestApp;
  let nc: NatsConnection;
  let config: Config;
  let browser: Browser;
  let address: string;
  const keys = { operator: '', admin: '', globex: '' };
  let pdfUpload = 0;

  const signIn = async (key: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, colorScheme });
    page.setDefaultTimeout(30_000);
    await page.goto(`${address}/ui/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').waitFor();
    return page;
  };
  const publish = (
    tenant: string,
    collection: string,
    docs: { id: string; text: string; title?: string }[],
  ) =>
    client(address, tenant === 'acme' ? keys.admin : keys.globex).post(
      '/v1/events',
      docs.map((d) => ({
        specversion: '1.0',
        id: `${collection}-${d.id}`,
        source: 'urn:test',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant,
          collection,
          documentId: d.id,
          text: d.text,
          ...(d.title ? { title: d.title } : {}),
        },
      })),
    );

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    await buildUi();
    t = await startTestApp({
      roles: ['api', 'parser', 'chunker', 'embedder', 'indexer', 'projector', 'output'],
      auth: 'keys',
    });
    ({ nc, config, address } = t);
    keys.operator = (
      await createKey(t.db.sql, { tenant: 'acme', admin: true, operator: true })
    ).key;
    keys.admin = (await createKey(t.db.sql, { tenant: 'acme', admin: true })).key;
    keys.globex = (await createKey(t.db.sql, { tenant: 'globex' })).key;
    // Uploaded now, parsed and indexed while the tests before its own run.
    const pdf = makePdf([{ lines: ['# Kettles', 'A kettle sings before it boils.'] }], {
      title: 'Kettle Handbook',
      author: 'Ada Lovelace',
    });
    pdfUpload = await fetch(`${address}/v1/documents/files/kettles.pdf`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/pdf' },
      body: pdf,
    }).then((r) => r.status);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('signs in, shows the pipeline live, and counts documents up to "indexed"', async () => {
    const page = await signIn(keys.operator);
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor();
    await page.getByRole('region', { name: 'Chunk stage' }).waitFor();
    await page.getByText('live (every 2 s)').waitFor();
    // The key is in session storage, never in the URL.
    expect(page.url()).not.toContain('sk_');
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
        ).sessionStorage.getItem('sluice.apiKey'),
      ),
    ).toBe(keys.operator);

    const docs = Array.from({ length: 12 }, (_, i) => ({
      id: `note-${i}`,
      title: `Note ${i}`,
      text: `Quokkas and wombats are marsupials. Note ${i} is about ${['rivers', 'volcanoes', 'glaciers'][i % 3]} and their ${['erosion', 'eruptions', 'retreat'][i % 3]}.`,
    }));
    expect((await publish('acme', 'kb', docs)).status).toBe(202);
    await publish('globex', 'gx-private', [{ id: 'secret', text: 'Globex plans, not for acme.' }]);

    await page.getByRole('link', { name: 'Collections' }).click();
    const indexed = page.locator('tr[data-collection="kb"] td[data-status="indexed"]');
    await expect.poll(async () => indexed.textContent(), { timeout: 60_000 }).toBe('12');
    await page.screenshot({ path: join(shots, 'collections.png') });

    await page.getByRole('link', { name: 'kb' }).click();
    await page.getByRole('link', { name: 'Note 3' }).click();
    await expect.poll(() => page.getByTestId('document-status').textContent()).toBe('indexed');
    await page.getByRole('cell', { name: 'upserted.v1' }).waitFor();
    await page.getByText('Note 3 is about rivers').first().waitFor();
    await page.screenshot({ path: join(shots, 'document.png'), fullPage: true });

    await page.getByRole('link', { name: 'Pipeline' }).click();
    await page
      .getByText('sluice started')
      .or(page.getByRole('cell', { name: /api, (parser, )?chunker/ }))
      .first()
      .waitFor();
    await page.waitForTimeout(11_000); // two history points for the charts
    await page.reload();
    await page.locator('.chart').first().waitFor();
    await page.screenshot({ path: join(shots, 'pipeline.png'), fullPage: true });
    await page.close();
  }, 120_000);

  it('redrives a dead letter from the page, and the document is indexed', async () => {
    // A document whose claim-checked body is missing: dead-lettered (TEXT_REF_INVALID).
    const ref = { tenant: 'acme', collection: 'kb', documentId: 'late-body' };
    const text = 'The body arrived late, after its event: redriving the letter indexes it.';
    const name = `${claimCheckPrefix(ref)}body`;
    const h = headers();
    for (const [k, v] of Object.entries({
      'ce-specversion': '1.0',
      'ce-id': 'late-body-1',
      'ce-source': 'urn:test',
      'ce-type': 'sluice.document.upserted.v1',
      'content-type': 'application/json',
    }))
      h.set(k, v);
    await jetstream(nc).publish(
      new Subjects(config.namespace).event(ref),
      JSON.stringify({
        ...ref,
        textRef: {
          bucket: bodiesBucket(config.namespace),
          name,
          size: Buffer.byteLength(text),
          sha256: createHash('sha256').update(text).digest('hex'),
        },
      }),
      { headers: h },
    );

    const page = await signIn(keys.admin);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByLabel('Error code').fill('TEXT_REF_INVALID');
    const row = page.locator('tr[data-letter]').filter({ hasText: 'late-body' });
    await expect.poll(() => row.count(), { timeout: 60_000 }).toBe(1);
    await page.screenshot({ path: join(shots, 'dead-letters.png') });
    await row.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
    await page.getByText('TEXT_REF_INVALID').first().waitFor();
    await page.screenshot({ path: join(shots, 'dead-letter.png'), fullPage: true });

    // The body arrives; the redrive asks first, then sends the letter back.
    await new ClaimCheck(nc, bodiesBucket(config.namespace)).put(name, text);
    await page.getByRole('button', { name: 'Redrive' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/goes back to chunker/).waitFor();
    await dialog.getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('status').filter({ hasText: 'Redriven' }).waitFor();

    await page.goto(`${address}/ui/#/documents/kb/late-body`);
    await expect
      .poll(() => page.getByTestId('document-status').textContent(), { timeout: 60_000 })
      .toBe('indexed');
    await page.close();
  }, 120_000);

  it.each(['hybrid', 'vector', 'keyword'] as const)(
    'searches in %s mode, with the matched terms marked',
    async (mode) => {
      const page = await signIn(keys.admin);
      await page.getByRole('link', { name: 'Search' }).click();
      await page.getByLabel('Query').fill('volcanoes eruptions');
      await page.getByLabel('Collection').selectOption('kb');
      await page.getByRole('radio', { name: mode }).check();
      await page.getByRole('button', { name: 'Search' }).click();
      const summary = page.getByTestId('search-summary');
      await summary.waitFor();
      expect(await summary.textContent()).toMatch(
        new RegExp(`\\d+ result\\(s\\) · ${mode} · .* ms in the server`),
      );
      const first = page.locator('ol.results li').first();
      await first.waitFor();
      if (mode !== 'vector') {
        expect(await first.textContent()).toMatch(/volcanoes/);
        expect(await first.locator('mark').count()).toBeGreaterThan(0);
      }
      if (mode === 'hybrid') await page.screenshot({ path: join(shots, 'search.png') });
      await page.close();
    },
    60_000,
  );

  it('starts a replay from the page, after a confirmation, and shows it done', async () => {
    const page = await signIn(keys.operator);
    await page.getByRole('link', { name: 'Replays' }).click();
    const row = page.getByRole('row', { name: /^collections/ });
    await row.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'start' }).click();
    await page.getByRole('status').filter({ hasText: 'collections: start requested' }).waitFor();
    await expect
      .poll(() => row.getByRole('cell').first().textContent(), { timeout: 60_000 })
      .toBe('done');
    await page.close();
  }, 90_000);

  it('works with the keyboard alone', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await page.goto(`${address}/ui/`);
    await page.getByLabel('API key').waitFor();
    // The sign-in form takes the focus: type the key, press Enter.
    expect((await focused(page))?.id).toBe('api-key');
    await page.keyboard.type(keys.admin);
    await page.keyboard.press('Enter');
    await page.getByTestId('who').waitFor();
    // Tab along the header to "Search", then Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await focused(page))?.text === 'Search') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Search' }).waitFor();
    await page.getByLabel('Query').focus();
    await page.keyboard.type('glaciers');
    await page.keyboard.press('Enter');
    await page.getByTestId('search-summary').waitFor();
    await page.close();
  });

  it('shows a page for any address: malformed escapes, long, unknown, strange ids', async () => {
    // A document whose id holds what URLs treat specially: its link must lead to it.
    const odd = 'a/b %25 ?q=1#frag \u200b\u05e9\u05dc\u05d5\u05dd 🦘';
    expect(
      (await publish('acme', 'odd-ids', [{ id: odd, text: 'An oddly named note.' }])).status,
    ).toBe(202);
    const page = await signIn(keys.admin);
    // decodeURIComponent throws on these: the page must still render.
    for (const hash of [
      '#/documents/%E0%A4',
      '#/documents/kb/%E0%A4',
      '#/%',
      '#/collections/%ZZ',
    ]) {
      await page.goto(`${address}/ui/${hash}`);
      await page.getByTestId('who').waitFor();
      await page.locator('main h1, main [role="alert"]').first().waitFor();
    }
    await page.goto(`${address}/ui/#/no-such-page/${'x'.repeat(20_000)}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.goto(`${address}/ui/#/documents/kb/${'%F0%9F%A6%98'.repeat(1024)}`);
    await page.getByTestId('who').waitFor();
    await page.locator('main h1, main [role="alert"]').first().waitFor();

    await page.goto(`${address}/ui/#/collections/${encodeURIComponent('odd-ids')}`);
    await page.getByRole('link', { name: odd }).click();
    await expect
      .poll(() => page.getByTestId('document-status').textContent(), { timeout: 60_000 })
      .toBe('indexed');
    expect(await page.locator('main h1').first().textContent()).toContain(odd);
    await page.close();
  }, 90_000);

  it("shows an uploaded PDF's own title, author and language on its document page", async () => {
    expect(pdfUpload).toBe(202);
    const page = await signIn(keys.admin);
    await page.goto(`${address}/ui/#/documents/files/kettles.pdf`);
    await expect
      .poll(() => page.getByTestId('document-status').textContent(), { timeout: 60_000 })
      .toBe('indexed');
    await page.getByRole('heading', { name: 'Kettle Handbook' }).waitFor();
    expect(await page.getByTestId('document-authors').textContent()).toBe('Ada Lovelace');
    expect(await page.getByTestId('document-language').textContent()).toBe('en');
    await page.close();
  }, 90_000);

  it("a tenant's key sees only its own collections, and no admin action", async () => {
    // In the dark: the page follows the system's colour scheme.
    const page = await signIn(keys.globex, 'dark');
    expect(await page.getByTestId('who').textContent()).toContain('globex · reader');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const hidden of ['Pipeline', 'Dead letters', 'Replays'])
      expect(await nav.getByRole('link', { name: hidden }).count()).toBe(0);
    await page.getByRole('link', { name: 'Collections' }).click();
    await page.locator('tr[data-collection="gx-private"]').waitFor();
    expect(await page.locator('tr[data-collection="kb"]').count()).toBe(0);
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('heading', { name: 'Per collection' }).waitFor();
    expect(await page.getByRole('button', { name: /Activate|Roll back/ }).count()).toBe(0);
    // Typing an admin page's address shows a refusal; the server refuses too.
    await page.goto(`${address}/ui/#/dead-letters`);
    await page.getByRole('alert').filter({ hasText: 'needs an admin key' }).waitFor();
    await page.goto(`${address}/ui/#/documents/kb/note-1`);
    await page.getByRole('alert').filter({ hasText: 'NOT_FOUND' }).waitFor();
    const api = client(address, keys.globex);
    expect((await api.get('/v1/pipeline')).status).toBe(403);
    expect((await api.get('/v1/dead-letters')).status).toBe(403);
    expect(
      (await api.put('/v1/collections/gx-private/model', { model: config.models[0] })).status,
    ).toBe(403);
    await page.screenshot({ path: join(shots, 'tenant-view.png') });
    await page.close();
  }, 60_000);
});
