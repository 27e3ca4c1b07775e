/** What a reviewer needs to see of one sample: its text with triggers marked, its image with the trigger box, or its row. */
import { useEffect, useState, type ReactNode } from 'react';
import { asApiError, type Api, type ApiError, type Finding, type Sample } from '../api.ts';
import { ErrorBox } from './ErrorBox.tsx';
import { SampleText, VisibleText } from './SampleText.tsx';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The trigger n-grams the text detectors found in this sample. */
export function triggersOf(findings: readonly Finding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const t = f.evidence?.['trigger'];
    if (typeof t === 'string' && t.length > 0) out.push(t);
  }
  return out;
}

function isBox(v: unknown): v is Box {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return ['x', 'y', 'width', 'height'].every((k) => typeof b[k] === 'number' && Number.isFinite(b[k]));
}

/** Trigger boxes from image findings, in the coordinates of the image resized to `side` px. */
export function boxesOf(findings: readonly Finding[]): { box: Box; label: string }[] {
  const out: { box: Box; label: string }[] = [];
  for (const f of findings) {
    const b = f.evidence?.['box'];
    if (isBox(b)) out.push({ box: b, label: `${f.detector} ${f.code}` });
  }
  return out;
}

export function ValuesTable({ values, skip }: { values: Readonly<Record<string, string>>; skip?: string }): ReactNode {
  const entries = Object.entries(values).filter(([k]) => k !== skip);
  if (entries.length === 0) return null;
  return (
    <table className="kv">
      <caption className="sr-only">Column values</caption>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="mono-wrap"><VisibleText text={String(v)} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SampleImage({ api, image, boxes }: { api: Api; image: NonNullable<Sample['image']>; boxes: readonly { box: Box; label: string }[] }): ReactNode {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    setSrc(null);
    setError(null);
    api.imageUrl(image.url).then(
      (u) => {
        if (live) setSrc((url = u));
        else URL.revokeObjectURL(u);
      },
      (err: unknown) => live && setError(asApiError(err)),
    );
    return () => {
      live = false;
      if (url !== null) URL.revokeObjectURL(url);
    };
  }, [api, image.url]);
  if (error !== null) return <ErrorBox error={error} />;
  const side = image.side > 0 ? image.side : Math.max(image.width, image.height, 1);
  // Boxes are in the side×side frame the detectors saw, which spans the whole picture: percentages of
  // the displayed image place them at any display size.
  const pct = (v: number): string => `${Math.max(0, Math.min(100, (v / side) * 100))}%`;
  return (
    <figure className="sample-image">
      <div className="image-frame">
        {src === null ? (
          <div className="image-placeholder" style={{ aspectRatio: `${image.width} / ${image.height}` }} aria-busy="true">Loading image…</div>
        ) : (
          <img src={src} alt={`sample, ${image.width}×${image.height} pixels`} width={image.width} height={image.height} />
        )}
        {boxes.map(({ box, label }, i) => (
          <div
            key={i}
            className="trigger-box"
            data-testid="trigger-box"
            title={`${label}: (${box.x}, ${box.y}) ${box.width}×${box.height} of ${side}px`}
            style={{ left: pct(box.x), top: pct(box.y), width: pct(box.width), height: pct(box.height) }}
          />
        ))}
      </div>
      <figcaption className="muted small">
        {image.width}×{image.height} px, scanned at {side}×{side}
        {boxes.length > 0 ? `; trigger box${boxes.length === 1 ? '' : 'es'} outlined` : ''}
      </figcaption>
    </figure>
  );
}

export function SampleView({ api, sample, findings }: { api: Api; sample: Sample; findings: readonly Finding[] }): ReactNode {
  if (sample.kind === 'image' && sample.image !== undefined) {
    return (
      <>
        <SampleImage api={api} image={sample.image} boxes={boxesOf(findings)} />
        <ValuesTable values={sample.values} />
      </>
    );
  }
  if (sample.kind === 'text' && typeof sample.text === 'string') {
    return (
      <>
        <SampleText text={sample.text} triggers={triggersOf(findings)} />
        {sample.textColumn === undefined ? <ValuesTable values={sample.values} /> : <ValuesTable values={sample.values} skip={sample.textColumn} />}
      </>
    );
  }
  return <ValuesTable values={sample.values} />;
}
