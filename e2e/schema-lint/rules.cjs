// coffer's own rule for graphql-schema-linter (run by `make lint`, configured in package.json).
const { ValidationError } = require('graphql-schema-linter/lib/validation_error');
const { getNamedType } = require('graphql');

// InputTypesAreNamedInput: an input object is named *Input — except the `filter` argument of a
// connection field, which may be named *Filter (EntryFilter, TransactionFilter): clients already
// write those names in their variable declarations (`query($f: TransactionFilter)`), and the
// suffix says what the input is for.
function InputTypesAreNamedInput(context) {
  const schema = context.getSchema();
  const filters = new Set();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!type.getFields || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args || !getNamedType(field.type).name.endsWith('Connection')) continue;
      const filter = field.args.find((a) => a.name === 'filter');
      if (filter) filters.add(getNamedType(filter.type).name);
    }
  }
  return {
    InputObjectTypeDefinition(node) {
      const name = node.name.value;
      if (name.endsWith('Input') || (name.endsWith('Filter') && filters.has(name))) return;
      context.reportError(new ValidationError('input-types-are-named-input',
        `The input type \`${name}\` should be named \`${name}Input\` (or \`*Filter\` if it is a connection's filter argument).`,
        [node.name]));
    },
  };
}

// RootFieldsHaveAuth: every field of Query, Mutation and Subscription (wherever it is declared or
// extended) says who may call it, with exactly one of @auth (signed in, optionally in some roles)
// and @public (anyone). graph/authz.go checks @auth; a field with neither would be open to anyone
// without anyone having decided so.
function RootFieldsHaveAuth(context) {
  const schema = context.getSchema();
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter(Boolean).map((t) => t.name));
  const check = (node) => {
    if (!roots.has(node.name.value)) return;
    for (const field of node.fields || []) {
      const names = (field.directives || []).map((d) => d.name.value).filter((n) => n === 'auth' || n === 'public');
      if (names.length === 1) continue;
      context.reportError(new ValidationError('root-fields-have-auth',
        `The root field \`${node.name.value}.${field.name.value}\` must carry exactly one of @auth and @public (it has ${names.length ? names.map((n) => '@' + n).join(' and ') : 'neither'}).`,
        [field.name]));
    }
  };
  return { ObjectTypeDefinition: check, ObjectTypeExtension: check };
}

module.exports = { InputTypesAreNamedInput, RootFieldsHaveAuth };
