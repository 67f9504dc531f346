/** The chunker's public surface: its role. */
export { startChunkerRole } from './role.js';
