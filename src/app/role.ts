import type { AppContext } from './context.js';

/** A running role: stops by draining its work. */
export interface RoleHandle {
  name: string;
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: AppContext) => Promise<RoleHandle>;
