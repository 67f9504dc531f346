import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors/index.js';
import { FailedKeys } from './failed-keys.js';
import type { KeyVerifier, Principal } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route; every route declares it (test/route-scopes.int.test.ts
     * fails for one that does not, and the route then needs at least a plain key).
     */
    scope?: Scope;
    /**
     * Whose resources the route reads or changes: `tenant` (the key's tenant's only:
     * another tenant's are answered as if absent), `installation` (every tenant's:
     * operator routes), `nothing` (no tenant's data: health, the dashboard's files).
     */
    owns?: Owner;
  }
  interface FastifyInstance {
    /** Every route this app serves with its declared scope (the docs routes aside). */
    routeTable: DeclaredRoute[];
  }
}

export interface DeclaredRoute {
  method: string;
  url: string;
  scope: Scope | undefined;
  owns: Owner | undefined;
}

/**
 * `none`: no key (health, metrics, the dashboard's files); `plain`: any valid key;
 * `admin`: an admin (or operator) key; `operator`: an operator key.
 */
export type Scope = 'none' | 'plain' | 'admin' | 'operator';
export type Owner = 'tenant' | 'installation' | 'nothing';

/** The declarations routes use: `config: routeScope.plain` (or spread it into a config). */
export const routeScope = {
  public: { scope: 'none', owns: 'nothing' },
  plain: { scope: 'plain', owns: 'tenant' },
  admin: { scope: 'admin', owns: 'tenant' },
  operator: { scope: 'operator', owns: 'installation' },
} as const satisfies Record<string, { scope: Scope; owns: Owner }>;

/** Routes the API serves that other plugins declare (the OpenAPI document and its UI). */
export const isDocsUrl = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

export type AuthMode =
  | {
      mode: 'keys';
      verifier: KeyVerifier;
      /** Failed key checks per client address and key id per minute before 429. @defaultValue 60 */
      failuresPerMinute?: number;
    }
  | { mode: 'off'; tenant: string };

/**
 * Every route but the public ones needs an API key (`Authorization: Bearer sk_…` or
 * `X-API-Key`). The tenant comes from the key, never from the request body. With
 * SLUICE_AUTH=off (local development) every caller is an operator, acting for
 * SLUICE_DEFAULT_TENANT.
 */
export function installAuth(app: FastifyInstance, auth: AuthMode): void {
  const table: DeclaredRoute[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (r) => {
    if (isDocsUrl(r.url) || r.method === 'HEAD') return;
    for (const method of [r.method].flat())
      table.push({ method, url: r.url, scope: r.config?.scope, owns: r.config?.owns });
    if (r.config?.scope === undefined)
      app.log.warn(
        { route: `${String(r.method)} ${r.url}` },
        'route declares no scope: a key is required',
      );
  });
  const failures = new FailedKeys(auth.mode === 'keys' ? (auth.failuresPerMinute ?? 60) : 0);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const config = request.routeOptions.config;
    // The OpenAPI document and its UI (/docs, from @fastify/swagger-ui) are public too.
    if (config?.scope === 'none' || isDocsUrl(request.url)) return;

    if (auth.mode === 'off') {
      request.principal = { keyId: 'anonymous', tenant: auth.tenant, admin: true, operator: true };
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
      const wait = failures.blockedFor(request.ip, presented);
      if (wait > 0)
        throw new SluiceError(
          'RATE_LIMITED',
          `too many failed checks of this API key from this address; retry in ${wait} seconds`,
          { details: { retryAfter: wait } },
        );
      const principal = await auth.verifier.verify(presented);
      if (!principal) {
        failures.fail(request.ip, presented);
        throw new SluiceError(
          'UNAUTHORIZED',
          'the API key is not valid (unknown, revoked or malformed)',
        );
      }
      request.principal = principal;
    }
    if (config?.scope === 'operator' && !request.principal.operator)
      throw new SluiceError(
        'FORBIDDEN',
        'this route acts on the whole installation: it needs an operator key',
      );
    if (config?.scope === 'admin' && !request.principal.admin)
      throw new SluiceError('FORBIDDEN', 'this route needs an admin key');
  });
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new SluiceError('UNAUTHORIZED', 'an API key is required');
  return request.principal;
}
