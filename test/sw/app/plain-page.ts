/** A page of the same app that knows nothing of local-endpoint: only the official client and the openai SDK. */
import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';

Object.assign(globalThis, { InferenceClient, OpenAI });
