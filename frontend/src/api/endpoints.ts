// Every call of the HTTP API (docs/protocol.md), typed end to end.
import {
  DirectRoom,
  HistoryPage,
  Member,
  MemberList,
  MyRoomList,
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

  markRead(room: string, seq: number) {
    return this.http.request('POST', `/api/rooms/${id(room)}/read`, null, { body: { seq } });
  }

  private async startSession(path: string, username: string, password: string): Promise<Session> {
    const session = await this.http.request('POST', path, Session, { body: { username, password }, auth: false });
    this.http.setSession(session);
    return session;
  }
}
