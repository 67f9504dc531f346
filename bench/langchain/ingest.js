/**
 * LangChain.js ingesting documents into pgvector the way its documentation shows:
 * RecursiveCharacterTextSplitter with its defaults, HuggingFaceTransformersEmbeddings
 * (transformers.js on onnxruntime-node) and PGVectorStore.fromDocuments, which embeds
 * every chunk first and then inserts them. Run by bench/langchain.ts in a process of its
 * own; prints one JSON line with its timings.
 *
 *   node bench/langchain/ingest.js DOCS.json MODELS_DIR MODEL DATABASE_URL BATCH [MODE]
 *
 * MODE `documented` (the default) is the path above. `batched` hands the embeddings one
 * batch at a time and then adds the vectors to the store: embedDocuments starts every
 * batch at once, which here ran at half the rate of the same batches one after another.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { env } from '@huggingface/transformers';
import { HuggingFaceTransformersEmbeddings } from '@langchain/community/embeddings/huggingface_transformers';
import { PGVectorStore } from '@langchain/community/vectorstores/pgvector';
import { Document } from '@langchain/core/documents';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

const [docsFile, modelsDir, model, databaseUrl, batch, mode = 'documented'] = process.argv.slice(2);
if (!batch || !['documented', 'batched'].includes(mode))
  throw new Error(
    'usage: ingest.js DOCS.json MODELS_DIR MODEL DATABASE_URL BATCH [documented|batched]',
  );

// The model from the shared folder, as Sluice reads it: no download.
env.allowRemoteModels = false;
env.localModelPath = `${modelsDir}/`;

/** @type {{ id: string; title: string; text: string }[]} */
const docs = JSON.parse(readFileSync(docsFile, 'utf8'));
const embeddings = new HuggingFaceTransformersEmbeddings({
  model,
  batchSize: Number(batch),
  // int8, the same model file Sluice runs (transformers.js picks fp32 without it).
  pretrainedOptions: { dtype: 'q8' },
});
// The model loaded before the clock starts, as Sluice's is (its clock starts once it has
// started).
await embeddings.embedQuery('warm-up');
const t0 = performance.now();
const splitter = new RecursiveCharacterTextSplitter();
const chunks = await splitter.splitDocuments(
  docs.map((d) => new Document({ pageContent: d.text, metadata: { id: d.id } })),
);
const storeConfig = {
  postgresConnectionOptions: { connectionString: databaseUrl },
  tableName: 'langchain_bench',
};
let store;
if (mode === 'documented') {
  store = await PGVectorStore.fromDocuments(chunks, embeddings, storeConfig);
} else {
  const vectors = [];
  for (let i = 0; i < chunks.length; i += Number(batch)) {
    const texts = chunks.slice(i, i + Number(batch)).map((c) => c.pageContent);
    vectors.push(...(await embeddings.embedDocuments(texts)));
  }
  store = await PGVectorStore.initialize(embeddings, storeConfig);
  await store.addVectors(vectors, chunks);
}
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
