// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatApi } from '../../api/endpoints';
import { ApiError } from '../../api/http';
import { AuthScreen, credentialProblem } from './AuthScreen';
import { byLabel, byRole, cleanup, click, render, type } from '../../test/render';
import { act } from 'react';

afterEach(cleanup);

function fakeApi(overrides: Partial<ChatApi> = {}): ChatApi {
  return { logIn: vi.fn(async () => ({})), signUp: vi.fn(async () => ({})), ...overrides } as unknown as ChatApi;
}

async function submit(container: HTMLElement) {
  await act(async () => {
    container.querySelector('form')?.requestSubmit();
  });
}

describe('AuthScreen', () => {
  it('labels its fields and logs in with what was typed', async () => {
    const api = fakeApi();
    const { container } = render(<AuthScreen api={api} />);
    type(byLabel(container, 'Username'), ' alice ');
    type(byLabel(container, 'Password'), 'correct horse battery');
    expect(byLabel(container, 'Password').getAttribute('autocomplete')).toBe('current-password');
    await submit(container);
    expect(api.logIn).toHaveBeenCalledWith('alice', 'correct horse battery');
  });

  it('says a wrong password in a sentence, in an alert (not the server’s raw text)', async () => {
    const api = fakeApi({ logIn: vi.fn(async () => Promise.reject(new ApiError(401, 'bad_credentials', 'invalid username or password'))) });
    const { container } = render(<AuthScreen api={api} />);
    type(byLabel(container, 'Username'), 'alice');
    type(byLabel(container, 'Password'), 'wrong password');
    await submit(container);
    expect(byRole(container, 'alert').textContent).toBe('Wrong username or password.');
  });

  it('checks sign-up rules before asking the server', async () => {
    const api = fakeApi();
    const { container } = render(<AuthScreen api={api} />);
    click(byRole(container, 'button', 'Create an account'));
    expect(byLabel(container, 'Password').getAttribute('autocomplete')).toBe('new-password');
    type(byLabel(container, 'Username'), 'alice');
    type(byLabel(container, 'Password'), 'short');
    await submit(container);
    expect(byRole(container, 'alert').textContent).toBe('A password is 10 to 128 characters.');
    expect(api.signUp).not.toHaveBeenCalled();
  });

  it('applies the server’s username and password rules', () => {
    expect(credentialProblem('signup', 'al', 'long enough pass')).toMatch(/username/);
    expect(credentialProblem('signup', 'alice!', 'long enough pass')).toMatch(/username/);
    expect(credentialProblem('signup', 'alice', 'Alice')).toMatch(/10 to 128/);
    expect(credentialProblem('signup', 'alicealice', 'ALICEALICE')).toMatch(/not be the username/);
    expect(credentialProblem('signup', 'alice', 'correct horse')).toBeNull();
  });
});
