// React access to the chat controller and its state.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ChatController } from './controller';
import type { ChatState } from './state';

export const ChatContext = createContext<ChatController | null>(null);

export function useController(): ChatController {
  const controller = useContext(ChatContext);
  if (controller === null) throw new Error('useController outside <ChatContext>');
  return controller;
}

/**
 * A slice of the chat state; the component renders again when it changes.
 * `select` must return a part of the state (or a primitive), not a new object.
 */
export function useChat<T>(select: (state: ChatState) => T): T {
  const controller = useController();
  return useSyncExternalStore(controller.subscribe, () => select(controller.getState()));
}
