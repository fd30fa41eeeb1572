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

module.exports = { InputTypesAreNamedInput };
