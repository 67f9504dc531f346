import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors/index.js';
import type { KeyVerifier, Principal } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Route needs no key (health, metrics, docs). */
    public?: boolean;
    /** Route needs an admin key. */
    admin?: boolean;
  }
}

export type AuthMode = { mode: 'keys'; verifier: KeyVerifier } | { mode: 'off'; tenant: string };

/**
 * Every route but the public ones needs an API key (`Authorization: Bearer sk_…` or
 * `X-API-Key`). The tenant comes from the key, never from the request body. With
 * SLUICE_AUTH=off (local development) every caller is an admin of SLUICE_DEFAULT_TENANT.
 */
export function installAuth(app: FastifyInstance, auth: AuthMode): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const config = request.routeOptions.config;
    // The OpenAPI document and its UI (/docs, from @fastify/swagger-ui) are public too.
    if (config?.public || request.url === '/docs' || request.url.startsWith('/docs/')) return;

    if (auth.mode === 'off') {
      request.principal = { keyId: 'anonymous', tenant: auth.tenant, admin: true };
    } else {
      const header = request.headers.authorization ?? '';
      const presented = header.toLowerCase().startsWith('bearer ')
        ? header.slice(7)
        : request.headers['x-api-key'];
      if (typeof presented !== 'string' || presented === '') {
        throw new SluiceError(
          'UNAUTHORIZED',
          'an API key is required: Authorization: Bearer <key>',
        );
      }
      const principal = await auth.verifier.verify(presented);
      if (!principal)
        throw new SluiceError(
          'UNAUTHORIZED',
          'the API key is not valid (unknown, revoked or malformed)',
        );
      request.principal = principal;
    }
    if (config?.admin && !request.principal.admin)
      throw new SluiceError('FORBIDDEN', 'this route needs an admin key');
  });
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new SluiceError('UNAUTHORIZED', 'an API key is required');
  return request.principal;
}
