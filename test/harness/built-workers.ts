import { dirname, join } from 'node:path';
import { inject } from 'vitest';
import { startWorkersFrom } from '../../src/worker-thread.js';

// Set-up of every server test file: the worker threads of the Sluice roles a test starts
// in its own process (startApp) load the sources global-setup transpiled (`build.ts`),
// as `sluice` child processes do, not TypeScript through tsx. SLUICE_TEST_FROM_SOURCE=1
// keeps tsx for both.
const entry = process.env.SLUICE_TEST_FROM_SOURCE === '1' ? undefined : inject('sluiceEntry');
if (entry) startWorkersFrom(join(dirname(entry), '..')); // <build>/src/cli/main.js → <build>/src
