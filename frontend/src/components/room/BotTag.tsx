// The small "bot" badge next to the name of a bot's reply or draft.
export function BotTag() {
  return <span className="tag tag-bot">bot</span>;
}
