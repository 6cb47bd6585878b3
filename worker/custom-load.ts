/**
 * What a task that loads its model itself (TaskRunner.load: text-to-image) gets from the engine:
 * ONNX sessions and tokenizers out of a model's subfolders, through transformers.js's own model
 * loading, so the files come the same way as every pipeline's (the local folder or the Hub,
 * through the model cache, with download progress) and the sessions run on the same devices.
 */
import {
  AutoConfig,
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForImageTextToText,
  AutoModelForSeq2SeqLM,
  AutoModelForVision2Seq,
  AutoProcessor,
  AutoTokenizer,
  CLIPTokenizer,
  PreTrainedModel,
  PreTrainedTokenizer,
  PretrainedConfig,
  Tensor,
  pipeline as loadPipeline,
} from '@huggingface/transformers';
import { EndpointError } from '../src/protocol/errors.js';
import type { LoadContext, OnnxModel, PipelineFn, PretrainedKind, TensorLike, TokenizerFn } from '../src/tasks/types.js';
import type { PipelineKey, ProgressEvent } from './pipeline-cache.js';

type Report = (event: ProgressEvent) => void;

const PRETRAINED: Record<PretrainedKind, { from_pretrained(id: string, options: object): Promise<unknown> }> = {
  AutoConfig,
  AutoTokenizer,
  AutoProcessor,
  AutoModel,
  AutoModelForImageTextToText,
  AutoModelForVision2Seq,
  AutoModelForSeq2SeqLM,
  AutoModelForCausalLM,
} as never;

interface LoadedSessionModel {
  (inputs: Record<string, unknown>): Promise<Record<string, TensorLike>>;
  sessions: Record<string, { inputNames: string[]; inputMetadata?: readonly { name: string; type?: string; shape?: readonly (number | string)[] }[] }>;
  dispose(): Promise<unknown>;
}

export function loadContext(
  key: PipelineKey,
  report: Report,
  readJSON: (path: string) => Promise<unknown | null>,
  hasFile: (path: string) => Promise<boolean>,
): LoadContext {
  const progress_callback = (info: Record<string, unknown>) => report({ ...(info as object), task: key.task, model: key.model } as ProgressEvent);
  return {
    model: key.model,
    device: key.device,
    ...(key.dtype ? { dtype: key.dtype } : {}),
    readJSON,
    async session(subfolder) {
      const options = {
        // A config of no known architecture: transformers.js opens `<subfolder>/model.onnx` as one session.
        config: new (PretrainedConfig as unknown as new (c: object) => PretrainedConfig)({ model_type: `local-endpoint-${subfolder}` }),
        subfolder,
        model_file_name: 'model',
        device: key.device,
        dtype: key.dtype ?? 'fp32',
        progress_callback,
      };
      const open = (external: boolean) =>
        (PreTrainedModel as unknown as { from_pretrained(id: string, o: object): Promise<LoadedSessionModel> }).from_pretrained(key.model, {
          ...options,
          use_external_data_format: external,
        });
      // Big UNets keep their weights in `model.onnx_data` beside the graph (as optimum exports
      // them); small sessions are one file.
      const loaded = await open(await hasFile(`${subfolder}/model.onnx_data`));
      const session = Object.values(loaded.sessions)[0]!;
      const metadata = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
      const model = (async (inputs: Record<string, TensorLike>) => loaded(inputs)) as OnnxModel;
      const inputs = session.inputNames.map((name) => {
        const { type, shape } = metadata.get(name) ?? {};
        return { name, ...(type ? { type } : {}), ...(Array.isArray(shape) ? { shape } : {}) };
      });
      Object.defineProperty(model, 'inputs', { value: inputs });
      model.dispose = async () => void (await loaded.dispose());
      return model;
    },
    async tokenizer(subfolder) {
      const at = (file: string) => (subfolder ? `${subfolder.replace(/\/+$/, '')}/${file}` : file); // '' is the repo's root
      const [json, config] = await Promise.all([readJSON(at('tokenizer.json')), readJSON(at('tokenizer_config.json'))]);
      if (!json) throw new EndpointError(400, `Model ${JSON.stringify(key.model)} has no ${at('tokenizer.json')}.`);
      const kind = String((config as { tokenizer_class?: unknown } | null)?.tokenizer_class ?? '');
      const Class = (kind.startsWith('CLIP') ? CLIPTokenizer : PreTrainedTokenizer) as unknown as new (json: unknown, config: unknown) => TokenizerFn;
      return new Class(json, config ?? {});
    },
    tensor: (type, data, dims) => new Tensor(type, data, dims) as unknown as TensorLike,
    async pipeline(task) {
      return (await loadPipeline(task as never, key.model, {
        device: key.device as never,
        ...(key.dtype ? { dtype: key.dtype as never } : {}),
        progress_callback,
      })) as unknown as PipelineFn;
    },
    async pretrained(kind, options = {}) {
      const Class = PRETRAINED[kind];
      if (!Class) throw new Error(`unknown transformers.js class ${JSON.stringify(kind)}`);
      const models = kind.startsWith('AutoModel');
      return Class.from_pretrained(key.model, {
        ...(models ? { device: key.device, ...(key.dtype ? { dtype: key.dtype } : {}) } : {}),
        progress_callback,
        ...options,
      });
    },
  };
}
