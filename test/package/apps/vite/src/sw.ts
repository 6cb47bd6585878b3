/**
 * The Vite consumer's Service Worker: local-endpoint/sw answers `/api/classify` through the page
 * that runs serveFromPage(), so plain `fetch` code in the app is answered on the device.
 */
import { localEndpointServiceWorker } from 'local-endpoint/sw';

localEndpointServiceWorker({
  endpoints: { '/api/classify': { task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier' } },
});
