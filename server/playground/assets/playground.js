// Starts GraphiQL against coffer's endpoint (the page's data-endpoint): queries and mutations over
// HTTP POST, subscriptions over WebSocket (graphql-transport-ws) on the same path. A token put in
// the Headers tab as {"Authorization": "Bearer <token>"} is sent with every HTTP request and, for
// subscriptions, in connection_init; the session cookie that login sets is sent as well.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.getAttribute('data-endpoint'), window.location.href);
  var wsEndpoint = new URL(endpoint.href);
  wsEndpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
  var base = GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: wsEndpoint.href });

  // HTTP header names are case-insensitive but connection_init payload keys are not: the server
  // reads "authorization", so the headers are passed on in lower case.
  function fetcher(params, opts) {
    var headers = {};
    var given = (opts && opts.headers) || {};
    Object.keys(given).forEach(function (k) { headers[k.toLowerCase()] = given[k]; });
    return base(params, Object.assign({}, opts, { headers: headers }));
  }

  var defaultQuery = [
    '# Welcome to coffer\'s Playground.',
    '#',
    '# Put your password in the Variables tab underneath and run Login, then open the Headers',
    '# tab and put in {"Authorization": "Bearer <auth.token>"} (the session cookie that login',
    '# sets works too, in this browser). Nothing you type here is kept after the page closes.',
    '',
    'mutation Login($login: String!, $password: String!) {',
    '  login(input: {login: $login, password: $password}) {',
    '    status',
    '    auth { token expiresAt user { username role } }',
    '  }',
    '}',
    '',
    'query Me {',
    '  me { username role }',
    '}',
    ''
  ].join('\n');
  var defaultVariables = '{\n  "login": "admin",\n  "password": ""\n}';

  // GraphiQL keeps its tabs (queries and variables), history and favourites in the storage it is
  // given, localStorage by default: a password typed into a login stayed there for whoever opens
  // the browser next. The editor's state lives in this page's memory only (a reload starts
  // afresh), and what an older page left in localStorage is removed.
  var memory = {};
  var storage = {
    getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
    setItem: function (k, v) { memory[k] = String(v); },
    removeItem: function (k) { delete memory[k]; },
    clear: function () { memory = {}; },
    key: function (i) { var keys = Object.keys(memory); return i < keys.length ? keys[i] : null; },
    get length() { return Object.keys(memory).length; }
  };
  try {
    Object.keys(window.localStorage).forEach(function (k) {
      if (k.indexOf('graphiql:') === 0) window.localStorage.removeItem(k);
    });
  } catch (e) { /* storage disabled: nothing was kept */ }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    variables: defaultVariables,
    storage: storage,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }));
})();
