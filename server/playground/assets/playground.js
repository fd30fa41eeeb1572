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
    '# Log in with the mutation below, then open the Headers tab underneath and put in',
    '#   {"Authorization": "Bearer <auth.token>"}',
    '# (the session cookie that login sets works too, in this browser).',
    '',
    'mutation Login {',
    '  login(input: {login: "admin", password: "your password"}) {',
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

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }));
})();
