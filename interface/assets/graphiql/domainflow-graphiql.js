// Starts GraphiQL against this server's POST /graphql. Credentials go in the Headers tab,
// e.g. {"Authorization": "Bearer <token>"}; they are not stored in the browser.
(function () {
  'use strict';

  var endpoint = new URL('/graphql', window.location.href).toString();

  // One JSON POST per operation: the server accepts nothing else (no batching, no GET).
  function fetcher(params, options) {
    var headers = {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json'
    };
    var extra = (options && options.headers) || {};
    Object.keys(extra).forEach(function (name) {
      headers[name] = extra[name];
    });
    return fetch(endpoint, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(params),
      credentials: 'omit'
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + response.status + ': ' + text }] };
        }
      });
    });
  }

  var defaultQuery = [
    '# domainflow GraphQL API.',
    '#',
    '# Mutations need credentials: open the Headers tab below and paste',
    '#   {"Authorization": "Bearer <token>"}',
    '# (`domainflow token --sub alice --role customer` prints a token),',
    '# or {"X-Api-Key": "<key>"}. Add {"Idempotency-Key": "<key>"} to make',
    '# a single mutation safe to retry.',
    '',
    '{',
    '  apiVersion',
    '}',
    ''
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers'
    })
  );
})();
