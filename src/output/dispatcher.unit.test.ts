import { describe, expect, it } from 'vitest';
import { chooseFair } from './dispatcher.js';

const c = (tenant: string, endpoint: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${tenant}-${endpoint}-${i}`, tenant, endpoint }));

describe('chooseFair', () => {
  const cases: {
    name: string;
    candidates: ReturnType<typeof c>;
    room: number;
    busy?: { tenant?: Record<string, number>; endpoint?: Record<string, number> };
    turn?: number;
    want: Record<string, number>;
  }[] = [
    {
      name: 'a flooding tenant takes its share, another gets the rest',
      candidates: [...c('a', 'e1', 8), ...c('a', 'e2', 8), ...c('a', 'e3', 8), ...c('b', 'f', 2)],
      room: 64,
      want: { a: 4, b: 2 },
    },
    {
      name: 'tenants take turns when room is short',
      candidates: [...c('a', 'e1', 4), ...c('b', 'f', 4), ...c('c', 'g', 4)],
      room: 3,
      want: { a: 1, b: 1, c: 1 },
    },
    {
      name: 'a tenant at its cap takes nothing',
      candidates: [...c('a', 'e1', 4), ...c('b', 'f', 2)],
      room: 10,
      busy: { tenant: { a: 4 } },
      want: { b: 2 },
    },
    {
      name: 'an endpoint at its cap gives its turn to the tenant’s next endpoint',
      candidates: [...c('a', 'e1', 3), ...c('a', 'e2', 3)],
      room: 10,
      busy: { endpoint: { e1: 2 } },
      want: { a: 2 },
    },
    {
      name: 'the turn decides who goes first',
      candidates: [...c('a', 'e1', 2), ...c('b', 'f', 2)],
      room: 1,
      turn: 1,
      want: { b: 1 },
    },
  ];
  for (const t of cases)
    it(t.name, () => {
      const chosen = chooseFair(t.candidates, {
        room: t.room,
        perEndpoint: 2,
        perTenant: 4,
        endpointBusy: (e) => t.busy?.endpoint?.[e] ?? 0,
        tenantBusy: (x) => t.busy?.tenant?.[x] ?? 0,
        turn: t.turn ?? 0,
      });
      const byTenant: Record<string, number> = {};
      for (const id of chosen) byTenant[id.split('-')[0]!] = (byTenant[id.split('-')[0]!] ?? 0) + 1;
      expect(byTenant).toEqual(t.want);
      // Never more than perEndpoint per endpoint, busy ones included.
      const byEndpoint: Record<string, number> = {};
      for (const id of chosen)
        byEndpoint[id.split('-')[1]!] = (byEndpoint[id.split('-')[1]!] ?? 0) + 1;
      for (const [e, n] of Object.entries(byEndpoint))
        expect(n + (t.busy?.endpoint?.[e] ?? 0)).toBeLessThanOrEqual(2);
    });
});
