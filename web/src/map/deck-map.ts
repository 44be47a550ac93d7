// The 2D map engine: one deck.gl Deck in a container element. The Deck is returned as a plain,
// non-reactive object (callers keep it in a shallowRef/markRaw) and is never put on `window`.
import { Deck, MapView, type Layer } from '@deck.gl/core';
import type { MapViewState } from '../stores/view.ts';

export interface DeckMap {
  readonly deck: Deck<MapView>;
  setLayers(layers: Layer[]): void;
  setView(view: MapViewState): void;
  finalize(): void;
}

export interface DeckMapOptions {
  view: MapViewState;
  /** The controller wants to move the map; return the (clamped) view to apply. */
  onViewChange(next: MapViewState): MapViewState;
  onError(error: Error): void;
}

export function createDeckMap(parent: HTMLDivElement, opts: DeckMapOptions): DeckMap {
  const deck: Deck<MapView> = new Deck<MapView>({
    parent,
    views: new MapView({ id: 'map', repeat: false }),
    viewState: opts.view,
    controller: { doubleClickZoom: true, touchRotate: true, keyboard: true },
    layers: [],
    onViewStateChange: ({ viewState }) => {
      const next = opts.onViewChange(viewState as MapViewState);
      // Controlled view: the store's clamped view is what the map shows.
      deck.setProps({ viewState: next });
    },
    onError: (error: Error) => opts.onError(error),
  });
  return {
    deck,
    setLayers: (layers) => deck.setProps({ layers }),
    setView: (view) => deck.setProps({ viewState: view }),
    finalize: () => deck.finalize(),
  };
}
