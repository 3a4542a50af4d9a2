// Touch targets: every control is at least 44 px tall (WCAG 2.5.5), as the
// style sheets declare it (jsdom has no layout; the browser tests see pixels).
import { describe, expect, it } from 'vitest';

const MIN_PX = 44;

/** Every style sheet of the app, by path, as text. */
const SHEETS: Record<string, string> = import.meta.glob('../**/*.css', { query: '?raw', import: 'default', eager: true });

interface Rule {
  file: string;
  selectors: string[];
  declarations: Map<string, string>;
}

/** The innermost `selector { declarations }` blocks of every style sheet (inside @media too). */
function rules(): Rule[] {
  return Object.entries(SHEETS).flatMap(([file, sheet]) => {
    const text = sheet.replace(/\/\*[\s\S]*?\*\//g, '');
    return [...text.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({
      file,
      selectors: (m[1] ?? '').split(',').map((s) => s.trim().replace(/\s+/g, ' ')),
      declarations: new Map(
        (m[2] ?? '')
          .split(';')
          .map((d) => d.split(':').map((part) => part.trim()))
          .filter((d): d is [string, string] => d.length >= 2 && d[0] !== '')
          .map(([prop, ...value]) => [prop, value.join(':')]),
      ),
    }));
  });
}

/** A length in px (rem and em at 16 px); a var(--x) through the root's custom properties. */
function px(value: string, vars: Map<string, string>): number {
  const ref = /^var\((--[\w-]+)\)$/.exec(value);
  if (ref) return px(vars.get(ref[1] ?? '') ?? 'NaN', vars);
  const m = /^(-?[\d.]+)(px|rem|em)?$/.exec(value);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'rem' || m[2] === 'em' ? 16 : 1);
}

const CONTROL = /(^|[\s>+~])(button|summary|textarea|select|input)(?![-\w])|\.room-item\b|\.kind-choice label\b/;

describe('touch targets', () => {
  const all = rules();
  const vars = new Map(all.filter((r) => r.selectors.includes(':root')).flatMap((r) => [...r.declarations]));

  it('buttons, fields, disclosure summaries and choices declare at least 44 px of height', () => {
    expect(all.length, 'rules read from the style sheets').toBeGreaterThan(50);
    for (const base of ['button', 'summary', 'textarea', '.kind-choice label', '.skip-link']) {
      const heights = all
        .filter((r) => r.selectors.some((s) => s === base || s.startsWith(`${base}:not(`)))
        .map((r) => r.declarations.get('min-height'))
        .filter((v): v is string => v !== undefined)
        .map((v) => px(v, vars));
      expect(heights.length, `${base} has a min-height`).toBeGreaterThan(0);
      for (const h of heights) expect(h, `${base} min-height`).toBeGreaterThanOrEqual(MIN_PX);
    }
  });

  it('no rule for a control brings it under 44 px', () => {
    const offenders = all.flatMap((r) =>
      r.selectors
        .filter((s) => CONTROL.test(s) && !/visually-hidden|\.msg-meta/.test(s))
        .flatMap((s) =>
          ['min-height', 'height', 'max-height']
            .map((prop) => [prop, r.declarations.get(prop)] as const)
            .filter(([prop, v]) => v !== undefined && !(prop === 'max-height' && /vh|%/.test(v)) && !(px(v, vars) >= MIN_PX))
            .map(([prop, v]) => `${s} { ${prop}: ${v} } in ${r.file}`),
        ),
    );
    expect(offenders).toEqual([]);
  });
});
