import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../src/metrics.js';
import { packageRoot } from '../src/paths.js';

interface Panel {
  id: number;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets: { refId: string; expr: string }[];
}

const dashboard = JSON.parse(
  readFileSync(join(packageRoot, 'infra/grafana/sluice-dashboard.json'), 'utf8'),
) as { uid: string; title: string; panels: Panel[] };

/** Labels every series has besides its own: the process's roles, and Prometheus's. */
const everywhere = new Set(['role', 'instance', 'job', 'le']);

describe('the Grafana dashboard', () => {
  it('queries only metrics Sluice exports, by labels they carry', async () => {
    const metrics = new Map(
      (await registry.getMetricsAsJSON()).map((m) => [
        m.name,
        new Set(
          (m as unknown as { values: { labels: Record<string, unknown> }[] }).values.flatMap((v) =>
            Object.keys(v.labels),
          ),
        ),
      ]),
    );
    // Label names of metrics that have no series yet in this process.
    const declared = (name: string): string[] =>
      (registry.getSingleMetric(name) as unknown as { labelNames?: string[] })?.labelNames ?? [];
    const used: string[] = [];
    for (const panel of dashboard.panels)
      for (const t of panel.targets) {
        const names = [...t.expr.matchAll(/\bsluice_[a-z_]+/g)].map((m) => m[0]);
        expect(names.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const raw of names) {
          const name = raw.replace(/_(bucket|count|sum)$/, '');
          used.push(name);
          expect(metrics.has(name), `${panel.title}: ${name} is not a Sluice metric`).toBe(true);
          const labels = new Set([...declared(name), ...(metrics.get(name) ?? [])]);
          for (const by of t.expr.matchAll(/by \(([^)]*)\)/g))
            for (const label of by[1]!.split(',').map((l) => l.trim()))
              expect(
                labels.has(label) || everywhere.has(label),
                `${panel.title}: ${name} has no label ${label}`,
              ).toBe(true);
        }
      }
    // The stage latencies, tokens and backlog the issue asked for are on it.
    expect(used).toEqual(
      expect.arrayContaining([
        'sluice_stage_latency_seconds',
        'sluice_tokens_embedded_total',
        'sluice_consumer_pending_messages',
        'sluice_dead_letters',
        'sluice_breaker_open',
      ]),
    );
  });

  it('is a well-formed dashboard: unique panel ids, panels inside the 24-column grid', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.targets.map((t) => t.refId)).toEqual([...new Set(p.targets.map((t) => t.refId))]);
    }
  });
});
