import { useEffect, useRef } from 'react';
import { reclaim } from '../bridge.js';
import { reported } from '../failures.js';

/**
 * The place kept for the server's Plex Web App. The app itself is a separate view that the main
 * process lays over this box, so the box reports where it is whenever it moves or resizes. A
 * banner or an error line above it moves it without resizing it, which no observer reports, so
 * the box checks its place once per frame and speaks only when it changed.
 */
export function PlexRegion(props: { profileId: string; visible: boolean; webUrl: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { sandboxed } = reclaim.shell;
  useEffect(() => {
    const element = box.current;
    if (!element || !sandboxed) return;
    if (!props.visible) {
      void reported(reclaim.showPlexView(props.profileId, null));
      return;
    }
    let last = '';
    let frame = 0;
    const place = () => {
      // The native view cannot be clipped by the page, so it is given only the part of the box
      // that is in sight in the scrolling area, and taken off the window when little is.
      const rect = element.getBoundingClientRect();
      const area = element.closest('.content')?.getBoundingClientRect() ?? new DOMRect(0, 0, window.innerWidth, window.innerHeight);
      const x = Math.max(rect.left, area.left);
      const y = Math.max(rect.top, area.top);
      const width = Math.min(rect.right, area.right) - x;
      const height = Math.min(rect.bottom, area.bottom) - y;
      const bounds = width >= 48 && height >= 48 ? { x, y, width, height } : null;
      const key = JSON.stringify(bounds);
      if (key !== last) {
        last = key;
        void reported(reclaim.showPlexView(props.profileId, bounds));
      }
      frame = requestAnimationFrame(place);
    };
    place();
    return () => {
      cancelAnimationFrame(frame);
      void reported(reclaim.showPlexView(props.profileId, null));
    };
  }, [props.profileId, props.visible, props.webUrl, sandboxed]);
  return (
    <div className="plex-region" ref={box} aria-label="Plex Web App of your server">
      {sandboxed
        ? <p className="muted">The Plex Web App of your server opens here, through the tunnel ({props.webUrl}).</p>
        : <p className="muted">Without the sandbox, Reclaim does not show the Plex Web App here. Use <em>Open in browser</em> ({props.webUrl}).</p>}
    </div>
  );
}
