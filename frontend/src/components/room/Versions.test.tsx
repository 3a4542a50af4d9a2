// @vitest-environment jsdom
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../chat/context';
import type { ChatController } from '../../chat/controller';
import { cleanup, render } from '../../test/render';
import { Versions, VERSIONS_RETRY_MS } from './Versions';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const ROOM = '0197a7f0-0000-7000-8000-00000000a001';
const MESSAGE = '0197a7f0-0000-7000-8000-00000000b001';
const original = { seq: 1, body: 'first draft', edited_at: '2026-11-30T06:00:00Z' };
const edit = { seq: 2, body: 'a finished thought', edited_at: '2026-11-30T06:00:01Z' };

function controllerAnswering(answers: Array<(typeof original)[]>) {
  const versions = vi.fn(async () => ({ versions: answers[Math.min(versions.mock.calls.length - 1, answers.length - 1)] }));
  return { controller: { http: { versions } } as unknown as ChatController, versions };
}

const bodies = (container: HTMLElement) => [...container.querySelectorAll('.versions-body')].map((e) => e.textContent);

describe('Versions', () => {
  it('asks again while the newest stored version is not the text shown (the writer stores an edit a moment later)', async () => {
    vi.useFakeTimers();
    const { controller, versions } = controllerAnswering([[original], [original], [original, edit]]);
    const { container } = render(
      <ChatContext.Provider value={controller}>
        <Versions room={ROOM} message={MESSAGE} body="a finished thought" onClose={() => {}} />
      </ChatContext.Provider>,
    );
    await act(async () => {});
    expect(bodies(container)).toEqual(['first draft']);
    await act(async () => vi.advanceTimersByTimeAsync(VERSIONS_RETRY_MS));
    await act(async () => vi.advanceTimersByTimeAsync(VERSIONS_RETRY_MS));
    expect(bodies(container)).toEqual(['first draft', 'a finished thought']);
    expect(versions).toHaveBeenCalledTimes(3);
    // once it matches, no more requests
    await act(async () => vi.advanceTimersByTimeAsync(VERSIONS_RETRY_MS * 5));
    expect(versions).toHaveBeenCalledTimes(3);
  });

  it('asks once when the stored versions already end with the text shown', async () => {
    vi.useFakeTimers();
    const { controller, versions } = controllerAnswering([[original, edit]]);
    const { container } = render(
      <ChatContext.Provider value={controller}>
        <Versions room={ROOM} message={MESSAGE} body="a finished thought" onClose={() => {}} />
      </ChatContext.Provider>,
    );
    await act(async () => vi.advanceTimersByTimeAsync(VERSIONS_RETRY_MS * 5));
    expect(bodies(container)).toEqual(['first draft', 'a finished thought']);
    expect(versions).toHaveBeenCalledTimes(1);
  });
});
