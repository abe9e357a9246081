// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schemas that the npm package
// kubernetes-models ships as compiled validators (one model per apiVersion and kind). Prints a JSON array with one
// entry per object: { kind, name, errors }. Run as a plain Node process: the package is ESM only.
const input = await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
});
const results = [];
for (const object of JSON.parse(input)) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const modulePath = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  const entry = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name, errors: [] };
  let Model;
  try {
    Model = (await import(modulePath))[object.kind];
  } catch (error) {
    entry.errors.push(`no schema for ${object.apiVersion} ${object.kind} (${error.message.split('\n')[0]})`);
  }
  if (Model) {
    try {
      new Model(object).validate();
    } catch (error) {
      entry.errors.push(String(error.message ?? error));
    }
  }
  results.push(entry);
}
process.stdout.write(JSON.stringify(results));
