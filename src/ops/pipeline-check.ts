import type { Breakers } from '../runtime/index.js';
import type { Check } from './routes.js';

/** Whether this process's consumers work or wait for a dependency (the breakers). */
export function pipelineCheck(ctx: { breakers: Breakers }): Check {
  return () => {
    const open = ctx.breakers.open();
    return open.length > 0
      ? Promise.reject(
          new Error(
            `consumers paused: ${open.map((b) => `${b.dependency} unavailable since ${b.since}`).join('; ')}`,
          ),
        )
      : Promise.resolve();
  };
}
