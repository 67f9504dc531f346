import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** Loads on mount (and when `deps` change), again every `everyMs` when given. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[] = [],
  everyMs?: number,
): { data: T | undefined; error: string | undefined; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = (): void => {
      load().then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(undefined);
        },
        (err: unknown) => live && setError(describe(err)),
      );
    };
    run();
    const t = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function Alert({ children }: { children: ComponentChildren }) {
  return (
    <p class="alert" role="alert">
      {children}
    </p>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-busy="true">
      Loading…
    </p>
  );
}

/**
 * An action that asks first: `ask(p)` opens the confirmation for p, `confirm()` runs it
 * and keeps what it says (or the error) as `notice`, `cancel()` closes.
 */
export function useConfirmed<P>(run: (p: P) => Promise<string>) {
  const [pending, setPending] = useState<P | null>(null);
  const [notice, setNotice] = useState<string>();
  return {
    pending,
    notice,
    ask: (p: P) => setPending(() => p),
    cancel: () => setPending(null),
    confirm: async (): Promise<void> => {
      const p = pending;
      setPending(null);
      if (p === null) return;
      try {
        setNotice(await run(p));
      } catch (err) {
        setNotice(describe(err));
      }
    },
  };
}

/** What the last action said, announced to screen readers. */
export function Notice({ text }: { text: string | undefined }) {
  return text ? (
    <p role="status" class="notice">
      {text}
    </p>
  ) : null;
}

/** A confirmation dialog: the action runs only after an explicit "Yes". */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm} autofocus>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Stat(props: { label: string; value: string; hint?: string }) {
  return (
    <div class="stat" title={props.hint}>
      <span class="stat-value">{props.value}</span>
      <span class="stat-label">{props.label}</span>
    </div>
  );
}
