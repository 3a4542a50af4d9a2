// Every call of the HTTP API (docs/protocol.md), typed end to end.
import {
  ChatMessage,
  DirectRoom,
  MessageVersions,
  ReportList,
  SearchResults,
  HistoryPage,
  Member,
  MemberList,
  MyRoomList,
  OnlinePage,
  Room,
  RoomList,
  Session,
  Ticket,
  User,
  type NewRoomKind,
} from '../wire';
import type { HttpClient } from './http';

export interface HistoryQuery {
  before?: number;
  after?: number;
  limit?: number;
}

/** Most messages one history page returns. */
export const HISTORY_PAGE_MAX = 100;

const id = (room: string) => encodeURIComponent(room);

export class ChatApi {
  constructor(readonly http: HttpClient) {}

  async signUp(username: string, password: string): Promise<Session> {
    return this.startSession('/api/auth/signup', username, password);
  }

  async logIn(username: string, password: string): Promise<Session> {
    return this.startSession('/api/auth/login', username, password);
  }

  /** The session of the refresh cookie, if there is one (after a reload). */
  restore(): Promise<Session | null> {
    return this.http.refresh();
  }

  async logOut(): Promise<void> {
    try {
      await this.http.request('POST', '/api/auth/logout', null, { auth: false });
    } finally {
      this.http.setSession(null);
    }
  }

  me() {
    return this.http.request('GET', '/api/me', User);
  }

  wsTicket() {
    return this.http.request('POST', '/api/ws-ticket', Ticket);
  }

  searchRooms(q: string, limit = 20) {
    const query = new URLSearchParams({ q, limit: String(limit) });
    return this.http.request('GET', `/api/rooms?${query}`, RoomList);
  }

  myRooms() {
    return this.http.request('GET', '/api/rooms/mine', MyRoomList);
  }

  createRoom(name: string, kind: NewRoomKind) {
    return this.http.request('POST', '/api/rooms', Room, { body: { name, kind } });
  }

  joinRoom(room: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/join`, Room);
  }

  leaveRoom(room: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/leave`, null);
  }

  members(room: string) {
    return this.http.request('GET', `/api/rooms/${id(room)}/members`, MemberList);
  }

  /** A page of who is online in the room, by user id: the page after `after` (a user id), `limit` at most 200. */
  online(room: string, query: { after?: string; limit?: number } = {}) {
    const params = new URLSearchParams();
    if (query.after !== undefined) params.set('after', query.after);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const q = params.toString();
    return this.http.request('GET', `/api/rooms/${id(room)}/online${q ? `?${q}` : ''}`, OnlinePage);
  }

  invite(room: string, username: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/invite`, Member, { body: { username } });
  }

  openDirect(username: string) {
    return this.http.request('POST', '/api/dm', DirectRoom, { body: { username } });
  }

  history(room: string, query: HistoryQuery = {}) {
    const params = new URLSearchParams();
    if (query.before !== undefined) params.set('before', String(query.before));
    if (query.after !== undefined) params.set('after', String(query.after));
    params.set('limit', String(query.limit ?? 50));
    return this.http.request('GET', `/api/rooms/${id(room)}/messages?${params}`, HistoryPage);
  }

  /** One message in its current state. */
  message(room: string, message: string) {
    return this.http.request('GET', `/api/rooms/${id(room)}/messages/${id(message)}`, ChatMessage);
  }

  versions(room: string, message: string) {
    return this.http.request('GET', `/api/rooms/${id(room)}/messages/${id(message)}/versions`, MessageVersions);
  }

  report(room: string, message: string, reason: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/messages/${id(message)}/reports`, null, { body: { reason } });
  }

  reports(room: string) {
    return this.http.request('GET', `/api/rooms/${id(room)}/reports`, ReportList);
  }

  resolveReport(room: string, report: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/reports/${id(report)}/resolve`, null);
  }

  setTopic(room: string, topic: string) {
    return this.http.request('PUT', `/api/rooms/${id(room)}/topic`, null, { body: { topic } });
  }

  setRole(room: string, user: string, role: 'moderator' | 'member') {
    return this.http.request('PUT', `/api/rooms/${id(room)}/members/${id(user)}/role`, null, { body: { role } });
  }

  kick(room: string, user: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/members/${id(user)}/kick`, null);
  }

  ban(room: string, user: string) {
    return this.http.request('POST', `/api/rooms/${id(room)}/bans`, null, { body: { user_id: user } });
  }

  setSlowMode(room: string, seconds: number) {
    return this.http.request('PUT', `/api/rooms/${id(room)}/slow_mode`, null, { body: { seconds } });
  }

  /** Messages of the caller's rooms matching `q` (1 to 200 characters). */
  searchMessages(q: string, options: { room?: string; limit?: number; offset?: number } = {}) {
    const params = new URLSearchParams({ q, limit: String(options.limit ?? 20) });
    if (options.room !== undefined) params.set('room', options.room);
    if (options.offset !== undefined && options.offset > 0) params.set('offset', String(options.offset));
    return this.http.request('GET', `/api/search?${params}`, SearchResults);
  }

  markRead(room: string, seq: number) {
    return this.http.request('POST', `/api/rooms/${id(room)}/read`, null, { body: { seq } });
  }

  private async startSession(path: string, username: string, password: string): Promise<Session> {
    const session = await this.http.request('POST', path, Session, { body: { username, password }, auth: false });
    this.http.setSession(session);
    return session;
  }
}
