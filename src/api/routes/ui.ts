import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { packageRoot } from '../../paths.js';
import { routeScope } from '../auth.js';

/** Where `npm run build:ui` writes the dashboard. */
export const uiDist = join(packageRoot, 'ui', 'dist');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * The dashboard's files at /ui (public: the page holds no data; every call it makes
 * carries the API key the user typed). Same origin as the API, no CDN: it works
 * offline and behind firewalls.
 */
export function registerUiRoutes(app: FastifyInstance, dist = uiDist): void {
  const config = routeScope.public;
  const send = async (file: string, reply: FastifyReply) => {
    const type = types[extname(file)];
    if (!type || !existsSync(file))
      return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such file' } });
    return reply
      .header('content-type', type)
      .header('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      )
      .send(await readFile(file));
  };
  app.get('/ui', { config, schema: { hide: true } }, (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui/', { config, schema: { hide: true } }, async (_req, reply) => {
    if (!existsSync(join(dist, 'index.html')))
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build:ui` (scripts/start does).\n');
    return send(join(dist, 'index.html'), reply);
  });
  app.get<{ Params: { '*': string } }>(
    '/ui/*',
    { config, schema: { hide: true } },
    async (request, reply) => {
      const file = resolve(dist, request.params['*']);
      if (!file.startsWith(dist + sep)) return reply.status(404).send();
      return send(file, reply);
    },
  );
}
