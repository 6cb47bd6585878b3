// An app's own worker: the package's worker entry, imported for its side effect.
import 'local-endpoint/worker';
