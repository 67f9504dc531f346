/** The API slice's public surface: its role and what the CLI calls (keys, model activation). */
export { activateModel, activeAssignments, coverage } from './active-models.js';
export { createKey, listKeys, revokeKey } from './keys.js';
export { startApiRole } from './role.js';
