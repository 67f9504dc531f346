/** The embedder's public surface: its role. */
export { startEmbedderRole } from './role.js';
