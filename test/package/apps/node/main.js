/**
 * The plain Node consumer: `serve()` from local-endpoint/node answering one POST, and the same
 * model in process through createNodeEngine + createLocalFetch. Prints one JSON line.
 */
import { createLocalFetch, createNodeEngine, serve, supportedTasks } from 'local-endpoint/node';

const model = 'local-endpoint/tiny-bert-classifier';
const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'I love this library', parameters: { top_k: 3 } }) };

const server = await serve({ task: 'text-classification', model, modelsDir: 'models', port: 0 });
const response = await fetch(server.url, request);
const served = { status: response.status, body: await response.json() };
await server.close();

const engine = createNodeEngine({ modelsDir: 'models' });
const localFetch = createLocalFetch({ engine, endpoints: { 'http://classifier.invalid': { task: 'text-classification', model } } });
const inProcess = await (await localFetch('http://classifier.invalid/', request)).json();

console.log(JSON.stringify({ served, inProcess, tasks: supportedTasks }));
