import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { validate as lintDockerfile } from 'dockerfile-utils';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSpec, loadConfig, roleNames } from '../src/config/index.js';
import { packageRoot } from '../src/paths.js';
import { declareTopology, streamName } from '../src/topology/index.js';

/**
 * The deployment artifacts, checked as far as this machine can: no Docker engine and
 * no Kubernetes cluster run here. The Kustomize overlays are rendered by kubectl's
 * built-in kustomize; every object is validated against the Kubernetes and KEDA API
 * schemas (kubernetes-models), and type-checked against their TypeScript definitions,
 * which rejects unknown fields (as kubeconform -strict does). The compose file is
 * validated against the compose spec's JSON schema; the Dockerfile is linted.
 */

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

function render(overlay: string): Doc[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', join(packageRoot, 'infra/k8s/overlays', overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(
        'kubectl is needed to render infra/k8s (.ci/run installs it: apt-get install kubernetes-client)',
      );
    throw new Error(`kubectl kustomize ${overlay} failed: ${e.stderr ?? e.message}`);
  }
  return parseAllDocuments(out).map((d) => d.toJS() as Doc);
}

/** kubernetes-models' module of a kind: core/v1, apps/v1, …, and KEDA's CRDs. */
const modelPath = (d: Doc): string =>
  d.apiVersion.endsWith('keda.sh/v1alpha1')
    ? `@kubernetes-models/keda/${d.apiVersion}/${d.kind}`
    : `kubernetes-models/${d.apiVersion}/${d.kind}`;

async function validateSchemas(docs: Doc[]): Promise<string[]> {
  const problems: string[] = [];
  for (const d of docs) {
    const mod = (await import(modelPath(d))) as Record<
      string,
      new (x: unknown) => { validate(): void }
    >;
    try {
      new mod[d.kind]!(d).validate();
    } catch (err) {
      problems.push(`${d.kind}/${d.metadata.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/**
 * Type-checks every object as an object literal of its kind's interface: TypeScript's
 * excess-property check finds fields the API does not have, at any depth.
 */
function typeCheck(docs: Doc[]): string[] {
  const cache = join(packageRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'k8s-'));
  try {
    const file = join(dir, 'manifests.ts');
    const lines = docs.map(
      (d, i) =>
        `import type { I${d.kind} as T${i} } from '${modelPath(d)}';\n` +
        `export const m${i}: T${i} = ${JSON.stringify(d, null, 1)};`,
    );
    writeFileSync(file, lines.join('\n'));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
    });
    return ts.getPreEmitDiagnostics(program).map((diag) => {
      const where =
        diag.file && diag.start !== undefined
          ? diag.file.getLineAndCharacterOfPosition(diag.start)
          : undefined;
      const text = ts.flattenDiagnosticMessageText(diag.messageText, ' ');
      // Which object: the nearest `export const mN` above the line.
      const src = readFileSync(file, 'utf8').split('\n');
      let n = where?.line ?? 0;
      while (n > 0 && !src[n]!.startsWith('export const m')) n--;
      const i = Number(/m(\d+)/.exec(src[n] ?? '')?.[1] ?? -1);
      return `${docs[i]?.kind}/${docs[i]?.metadata.name}: ${text}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every role but the API consumes a durable, and runs as a Deployment of its own. */
const consumerRoles: string[] = roleNames.filter((r) => r !== 'api');

describe.each(['dev', 'prod'])('infra/k8s overlay %s', (overlay) => {
  const docs = render(overlay);
  const of = (kind: string) => docs.filter((d) => d.kind === kind);

  it('renders, and every object is valid against the Kubernetes and KEDA schemas', async () => {
    expect(docs.length).toBeGreaterThan(10);
    expect(await validateSchemas(docs)).toEqual([]);
  });

  it('has no field the Kubernetes or KEDA API does not know', () => {
    expect(typeCheck(docs)).toEqual([]);
  }, 60_000);

  it('runs every role as a hardened Deployment with probes, limits and a PodDisruptionBudget', () => {
    const deployments = of('Deployment');
    expect(deployments.map((d) => d.spec.template.spec.containers[0].args.at(-1)).sort()).toEqual(
      ['api', ...consumerRoles].sort(),
    );
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext, `${d.metadata.name}/${c.name}`).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
      }
      const main = pod.containers[0];
      expect(main.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
      expect(main.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
      const labels = d.spec.template.metadata.labels;
      const pdb = of('PodDisruptionBudget').find((p) =>
        Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
      );
      expect(pdb, `a PodDisruptionBudget for ${d.metadata.name}`).toBeDefined();
    }
    expect(of('Job').map((j) => j.spec.template.spec.containers[0].args)).toEqual([['migrate']]);
  });

  it('configures Sluice only with variables it reads, and scales each consumer role on durables it declares', () => {
    const [cm] = of('ConfigMap').filter((c) => c.metadata.name === 'sluice');
    const known = new Set(Object.values(configSpec).map((s) => s.env));
    for (const key of Object.keys(cm!.data)) expect(known, key).toContain(key);
    // The topology these settings declare: the streams and durables KEDA must watch.
    const topology = declareTopology(loadConfig(cm!.data as Record<string, string>));
    const durables = new Set(topology.consumers.map((c) => `${c.stream}/${c.config.durable_name}`));
    const scaled = of('ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(
      consumerRoles.map((r) => `sluice-${r}`).sort(),
    );
    for (const s of scaled)
      for (const t of s.spec.triggers) {
        expect(t.type).toBe('nats-jetstream');
        expect(durables, s.metadata.name).toContain(`${t.metadata.stream}/${t.metadata.consumer}`);
      }
    // Every durable of the pipeline's streams but the retry ones is watched by a role.
    const watched = new Set(
      scaled.flatMap((s) => s.spec.triggers.map((t: any) => t.metadata.consumer)),
    );
    for (const c of topology.consumers)
      if (c.stream !== streamName(cm!.data.SLUICE_NAMESPACE as string, 'retry'))
        expect(watched, `${c.config.durable_name} is not scaled`).toContain(c.config.durable_name);
  });
});

describe('the checks fail on a broken manifest', () => {
  const deployment: Doc = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'broken' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [
            { name: 'c', image: 'i', readinessProbe: { httpGet: { path: '/readyz', port: 9090 } } },
          ],
        },
      },
    },
  };
  it('a field misspelt deep inside is found', () => {
    const bad = structuredClone(deployment);
    bad.spec.template.spec.containers[0].readinessProbe.httpGet.pathh = '/x';
    expect(typeCheck([deployment])).toEqual([]);
    expect(typeCheck([bad]).join('\n')).toMatch(
      /Deployment\/broken: Object literal may only specify known properties.*pathh/,
    );
  }, 60_000);
  it('a value of the wrong type is found', async () => {
    const bad = structuredClone(deployment);
    bad.spec.replicas = 'two';
    expect(await validateSchemas([bad])).toEqual([
      expect.stringMatching(/replicas must be integer/),
    ]);
  });
});

describe('infra/docker-compose.yml', () => {
  it('is valid against the compose specification schema, and builds the Dockerfile', () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(
      readFileSync(
        require.resolve('schemastore/schemas/json/raw.githubusercontent.com/compose-spec/compose-spec/master/schema/compose-spec.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    // The schema names its draft with http:// and a #: Ajv knows it as https://, without.
    delete schema.$schema;
    // It also names its subschemas with draft-04's `id` (a string), which later drafts
    // refuse; they are names only (references use paths).
    const dropIds = (v: unknown): void => {
      if (typeof v !== 'object' || v === null) return;
      const o = v as Record<string, unknown>;
      if (typeof o.id === 'string') delete o.id;
      Object.values(o).forEach(dropIds);
    };
    dropIds(schema);
    const compose = parse(readFileSync(join(packageRoot, 'infra/docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as {
      services: Record<
        string,
        { build?: { context: string; dockerfile: string }; profiles?: string[] }
      >;
    };
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, compose);
    expect(ajv.errors ?? [], JSON.stringify(ajv.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);
    // The cluster profile has three NATS nodes and the roles as services.
    const cluster = Object.entries(compose.services)
      .filter(([, s]) => s.profiles?.includes('cluster'))
      .map(([n]) => n);
    expect(cluster).toEqual(
      expect.arrayContaining([
        'nats-1',
        'nats-2',
        'nats-3',
        'api',
        'chunker',
        'embedder',
        'indexer',
        'projector',
      ]),
    );
    for (const s of Object.values(compose.services))
      if (s.build) expect(s.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(packageRoot, 'Dockerfile'), 'utf8');
  it('lints clean (and the linter does find faults)', () => {
    expect(lintDockerfile('FROM node:20\nEXPOSE 80/tcpx\nCOPY a\n')).toHaveLength(2);
    expect(
      lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${JSON.stringify(d.message)}`),
    ).toEqual([]);
  });
  it('is multi-stage, runs as a non-root user, has a HEALTHCHECK and bakes no model in', () => {
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1)!;
    expect(final).toMatch(/^USER node$/m);
    expect(final).toMatch(/^HEALTHCHECK /m);
    expect(text).not.toMatch(/^COPY .*models/m);
    // What it runs is what the build step emits.
    expect(final).toMatch(/ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]/);
    const build = JSON.parse(readFileSync(join(packageRoot, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
  });
});
