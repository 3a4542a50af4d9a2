// A user's avatar, generated from the user id (uploads come later): a circle
// in a hue of the id with the username's first letter. Inline SVG with fixed
// width and height (no network, no layout shift); decorative, since the name
// is always written next to it. Presentation attributes, not inline styles:
// the site's CSP allows none.
import { avatarFill, avatarInitial } from './avatar';

interface Props {
  id: string;
  username: string;
  /** Pixels, both sides. */
  size?: number;
  className?: string;
}

export function Avatar({ id, username, size = 32, className }: Props) {
  return (
    <svg
      className={className ? `avatar ${className}` : 'avatar'}
      width={size}
      height={size}
      viewBox="0 0 32 32"
      aria-hidden="true"
      focusable="false"
    >
      <circle cx="16" cy="16" r="16" fill={avatarFill(id)} />
      <text x="16" y="21.5" textAnchor="middle" fontSize="16" fontWeight="600" fill="#fff">
        {avatarInitial(username)}
      </text>
    </svg>
  );
}
