import type { FastifyInstance } from 'fastify';

/** Listens and returns the bound address (port 0 picks a free one). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  return app.listen({ host, port });
}
