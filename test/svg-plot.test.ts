/** The SVG line plot of the docs' figures (src/cli/plots/svg.ts). */
import { describe, expect, it } from 'vitest';
import { linePlotSvg } from '../src/cli/plots/svg.js';

const numbers = (text: string) => text.split(/[ ,]/).map(Number);

describe('linePlotSvg', () => {
  const svg = linePlotSvg({
    title: 'Peak <memory> & depth',
    xLabel: 'blocks',
    yLabel: 'MiB',
    xTicks: [8, 16, 32, 64],
    series: [
      { label: "memory: 'store'", color: '#d62728', points: [[8, 140], [16, 280], [32, 560], [64, 1120]] },
      { label: "memory: 'invert'", color: '#1f77b4', points: [[8, 25], [16, 25], [32, 26], [64, 27]] },
    ],
  });

  it('draws one polyline per series and one marker per point, and escapes text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(8);
    expect(svg).toContain('Peak &lt;memory&gt; &amp; depth');
    expect(svg).toContain(">memory: 'store'</text>");
  });

  it('places points by value: x linear in blocks, y upwards, from 0 to a round maximum', () => {
    const [store, invert] = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1].split(' ').map(numbers));
    // x: 8 → 64 linear, so 16 and 32 sit at 1/7 and 3/7 of the way.
    const [x8, x16, x32, x64] = store.map(([x]) => x);
    expect((x16 - x8) / (x64 - x8)).toBeCloseTo(1 / 7, 2);
    expect((x32 - x8) / (x64 - x8)).toBeCloseTo(3 / 7, 2);
    // y grows upwards: the larger the value, the smaller the coordinate; equal values, equal heights.
    expect(store[3][1]).toBeLessThan(store[0][1]);
    expect(invert[0][1]).toBeCloseTo(invert[1][1], 5);
    // Ticks every 500 (1, 2 or 5 times a power of ten, about 5 ticks): the axis ends at 1500, and 1120 sits at 1120/1500 of its height.
    const ticks = [...svg.matchAll(/text-anchor="end">(\d+)</g)].map((m) => Number(m[1]));
    expect(ticks[0]).toBe(0);
    expect(ticks).toEqual([0, 500, 1000, 1500]);
    const zeroY = Number(/<line x1="80" y1="([\d.]+)"/.exec(svg)![1]);
    const top = 40;
    expect((zeroY - store[3][1]) / (zeroY - top)).toBeCloseTo(1120 / 1500, 2);
  });
});
