import { button, h, labelled } from './dom.js';

export interface SignInHandlers {
  /** A pasted token; `submit` is the form's button. */
  paste(token: string, submit: HTMLButtonElement): void;
  /** A development token asked of the local issuer for `sub` with one role. */
  dev(sub: string, role: string, submit: HTMLButtonElement): void;
}

/** Sign-in: paste an access token, or (development only) get one from the local issuer. */
export class SignInPanel {
  readonly section: HTMLElement;
  private readonly tokenInput = h('input', { attrs: { type: 'password', autocomplete: 'off', spellcheck: 'false' } });
  private readonly devSub = h('input', { attrs: { type: 'text', autocomplete: 'off', value: 'alice' } });
  private readonly devRole = h('select', {}, ['agent', 'supervisor'].map((r) => h('option', { text: r, attrs: { value: r } })));
  private readonly devForm: HTMLFormElement;

  constructor(handlers: SignInHandlers) {
    const pasteSubmit = button('Sign in', 'submit');
    const pasteForm = h('form', { className: 'signin' }, [labelled('token', 'Access token (JWT)', this.tokenInput), pasteSubmit]);
    const devSubmit = button('Get dev token', 'submit');
    this.devForm = h('form', { className: 'signin dev' }, [
      h('p', { className: 'hint', text: 'Development only: get a token from the local issuer.' }),
      labelled('dev-sub', 'Agent ID', this.devSub),
      labelled('dev-role', 'Role', this.devRole),
      devSubmit,
    ]);
    this.devForm.hidden = true;
    this.section = h('section', { className: 'panel', attrs: { 'aria-labelledby': 'signin-title' } }, [
      h('h2', { text: 'Sign in', attrs: { id: 'signin-title' } }),
      pasteForm,
      this.devForm,
    ]);
    pasteForm.addEventListener('submit', (event) => {
      event.preventDefault();
      handlers.paste(this.tokenInput.value.trim(), pasteSubmit);
    });
    this.devForm.addEventListener('submit', (event) => {
      event.preventDefault();
      handlers.dev(this.devSub.value.trim(), this.devRole.value, devSubmit);
    });
  }

  /** Shows or hides the development sign-in; `agentId` pre-fills its Agent ID. */
  offerDevTokens(on: boolean, agentId?: string): void {
    this.devForm.hidden = !on;
    if (agentId) this.devSub.value = agentId;
  }

  signedIn(): void {
    this.tokenInput.value = '';
  }
}
