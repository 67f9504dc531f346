import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  values: (number | null)[];
}

const palette = ['#2f7ed8', '#e4572e', '#29a36a', '#a05ec7', '#d9a300', '#17a2b8', '#c2185b'];

/** A time chart (uPlot): `times` in ms since the epoch, one line per series. */
export function Chart(props: { title: string; unit: string; times: number[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 180,
      legend: { show: true },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(127,127,127,0.2)' } },
        {
          stroke: 'currentColor',
          grid: { stroke: 'rgba(127,127,127,0.2)' },
          values: (_u, ticks) => ticks.map((t) => `${t}${props.unit}`),
          size: 60,
        },
      ],
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length]!,
          width: 2,
          spanGaps: true,
        })),
      ],
    };
    plot.current = new uPlot(opts, data(props), el);
    const resize = (): void =>
      plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 180 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, props.unit]);
  useEffect(() => plot.current?.setData(data(props)), [props.times, props.series]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`${props.title}: ${props.series.map((s) => s.label).join(', ')}`}
      />
    </figure>
  );
}

function data(p: { times: number[]; series: Series[] }): uPlot.AlignedData {
  return [p.times.map((t) => t / 1000), ...p.series.map((s) => s.values)] as uPlot.AlignedData;
}
