// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from '../../test/render';
import { Avatar } from './Avatar';
import { avatarFill, avatarHue, avatarInitial } from './avatar';

afterEach(cleanup);

const A = '0190a1b2-0000-7000-8000-000000000001';
const B = '0190a1b2-0000-7000-8000-000000000002';

describe('avatar', () => {
  it('takes its hue from the id alone, the same every time', () => {
    expect(avatarHue(A)).toBe(avatarHue(A));
    expect(avatarHue(A)).not.toBe(avatarHue(B));
    expect(avatarHue(A)).toBeGreaterThanOrEqual(0);
    expect(avatarHue(A)).toBeLessThan(360);
    expect(avatarFill(A)).toMatch(/^hsl\(\d+ 60% 34%\)$/);
  });

  it('shows the first letter of the name, upper case, whole code points', () => {
    expect(avatarInitial('alice')).toBe('A');
    expect(avatarInitial('  émile')).toBe('É');
    expect(avatarInitial('😀bob')).toBe('😀');
    expect(avatarInitial('')).toBe('?');
  });

  it('is a decorative SVG of a fixed size', () => {
    const { container } = render(<Avatar id={A} username="alice" size={28} />);
    const svg = container.querySelector('svg');
    expect(svg?.getAttribute('aria-hidden')).toBe('true');
    expect(svg?.getAttribute('width')).toBe('28');
    expect(svg?.getAttribute('height')).toBe('28');
    expect(svg?.textContent).toBe('A');
    expect(svg?.querySelector('circle')?.getAttribute('fill')).toBe(avatarFill(A));
    expect(svg?.getAttribute('style')).toBeNull();
  });
});
