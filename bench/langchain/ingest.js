/**
 * LangChain.js ingesting documents into pgvector the way its documentation shows:
 * RecursiveCharacterTextSplitter with its defaults, HuggingFaceTransformersEmbeddings
 * (transformers.js on onnxruntime-node) and PGVectorStore.fromDocuments, which embeds
 * every chunk first and then inserts them. Run by bench/langchain.ts in a process of its
 * own; prints one JSON line with its timings.
 *
 *   node bench/langchain/ingest.js DOCS.json MODELS_DIR MODEL DATABASE_URL BATCH
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { env } from '@huggingface/transformers';
import { HuggingFaceTransformersEmbeddings } from '@langchain/community/embeddings/huggingface_transformers';
import { PGVectorStore } from '@langchain/community/vectorstores/pgvector';
import { Document } from '@langchain/core/documents';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

const [docsFile, modelsDir, model, databaseUrl, batch] = process.argv.slice(2);
if (!batch) throw new Error('usage: ingest.js DOCS.json MODELS_DIR MODEL DATABASE_URL BATCH');

// The model from the shared folder, as Sluice reads it: no download.
env.allowRemoteModels = false;
env.localModelPath = `${modelsDir}/`;

/** @type {{ id: string; title: string; text: string }[]} */
const docs = JSON.parse(readFileSync(docsFile, 'utf8'));
const t0 = performance.now();
const splitter = new RecursiveCharacterTextSplitter();
const chunks = await splitter.splitDocuments(
  docs.map((d) => new Document({ pageContent: d.text, metadata: { id: d.id } })),
);
const embeddings = new HuggingFaceTransformersEmbeddings({
  model,
  batchSize: Number(batch),
  // int8, the same model file Sluice runs (transformers.js picks fp32 without it).
  pretrainedOptions: { dtype: 'q8' },
});
const store = await PGVectorStore.fromDocuments(chunks, embeddings, {
  postgresConnectionOptions: { connectionString: databaseUrl },
  tableName: 'langchain_bench',
});
const seconds = (performance.now() - t0) / 1000;
// Searchable: a query over what it stored answers.
const hits = await store.similaritySearch(docs[0].title, 1);
await store.end();
const hwm = /^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(
  `${JSON.stringify({
    seconds,
    chunks: chunks.length,
    found: hits.length,
    peakRssMb: Number(hwm?.[1] ?? 0) / 1024,
  })}\n`,
);
