// api.js: every request to the zoneplan server goes through here, so that the
// bearer token is always sent and every problem+json answer becomes one kind
// of error the page can show.

const TOKEN_KEY = 'zoneplan.token';

/** ApiError is a failed request: the server's problem document, or a network failure. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {object} problem RFC 9457 problem: title, detail, errors[{index,pointer,reason}]
   */
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** errors lists the per-item problems (pointer and reason), possibly empty. */
  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Session keeps the bearer token in the browser's session storage (one tab, gone when closed). */
export class Session {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  /** headers returns the Authorization header for the current token, if any. */
  headers(extra = {}) {
    const h = { ...extra };
    const t = this.token;
    if (t) h.Authorization = `Bearer ${t}`;
    return h;
  }
}

/** Client calls the HTTP API with the session's token. */
export class Client {
  /**
   * @param {Session} session
   * @param {() => string} lang the user's language ("vi" or "en"), sent as
   *   Accept-Language so that a server that words its messages in both
   *   languages answers in the user's
   */
  constructor(session, lang = () => 'vi') {
    this.session = session;
    this.lang = lang;
    /** onUnauthorized is called on any 401, so the page can ask for a token again. */
    this.onUnauthorized = () => {};
  }

  /**
   * request sends one request (quiet: a 401 does not call onUnauthorized) and returns the parsed JSON body (or the Response
   * when opts.raw is set). A FormData body goes as multipart/form-data, anything else as JSON. Non-2xx answers throw ApiError.
   */
  async request(path, { method = 'GET', body, query, raw = false, signal, accept, quiet = false } = {}) {
    let url = path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      }
      const s = q.toString();
      if (s) url += (url.includes('?') ? '&' : '?') + s;
    }
    const headers = this.session.headers({
      Accept: accept || 'application/json, application/problem+json',
      'Accept-Language': this.lang() === 'en' ? 'en' : 'vi, en;q=0.5',
    });
    const init = { method, headers, signal };
    if (body instanceof FormData) {
      // A multipart upload: the browser writes the Content-Type with its boundary.
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, { title: 'network', detail: '' });
    }
    if (!res.ok) {
      const problem = await readProblem(res);
      if (res.status === 401 && !quiet) this.onUnauthorized(problem);
      throw new ApiError(res.status, problem);
    }
    if (raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  get(path, query, opts = {}) {
    return this.request(path, { ...opts, query });
  }

  post(path, body, opts = {}) {
    return this.request(path, { ...opts, method: 'POST', body });
  }
}

/** readProblem reads a problem+json body, or makes one from a plain-text answer. */
async function readProblem(res) {
  const type = res.headers.get('Content-Type') || '';
  try {
    if (type.includes('json')) {
      const p = await res.json();
      if (p && typeof p === 'object') return { status: res.status, ...p };
    }
    const text = (await res.text()).trim();
    return { status: res.status, title: res.statusText, detail: text.slice(0, 300) };
  } catch {
    return { status: res.status, title: res.statusText, detail: '' };
  }
}
