/** The keyboard shortcut overlay ("?"). */
import { DICOM_SHORTCUTS } from "../dicom/controls";

/** Every shortcut, in the overlay's order (the DICOM viewer's last). */
export const SHORTCUTS: [string, string][] = [
  ["V", "Select / edit"],
  ["B", "Box"],
  ["R", "Rotated box"],
  ["P", "Polygon"],
  ["L", "Polyline"],
  ["K", "Keypoints (Shift+click: occluded, N: skip)"],
  ["M", "Mask brush (E: eraser, - / =: size, Alt: erase)"],
  ["C", "Cuboid"],
  ["Shift+click", "Add to / remove from the selection (canvas and object list)"],
  ["Shift+drag", "Select every object inside the rectangle (lasso)"],
  ["Ctrl+A", "Select all"],
  ["Ctrl+C / Ctrl+V", "Copy / paste the selection (new ids, offset 10 px)"],
  ["A", "Accept the selected model suggestion(s)"],
  ["Shift+A", "Accept all suggestions at or above the threshold"],
  ["O", "Cut a hole in the selected polygon (toolbar button; or Shift+first click inside it)"],
  ["X", "Split the selected polygon with a line (toolbar button)"],
  ["U", "Merge the two selected polygons (toolbar button)"],
  ["1 – 9", "Choose class"],
  ["Enter", "Finish the drawing"],
  ["Esc", "Cancel the drawing / deselect"],
  ["Delete, Backspace", "Delete the selected object(s)"],
  ["H / Shift+H", "Hide or show the selected object / show all"],
  ["Shift+L", "Lock or unlock the selected object"],
  ["PageUp / PageDown", "Bring forward / send backward"],
  ["Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "Undo / redo"],
  ["Ctrl+S", "Save now"],
  ["F", "Fit the image"],
  ["Wheel", "Zoom around the cursor"],
  ["Space+drag, right or middle drag", "Pan"],
  ["Arrow keys", "Pan (Shift: faster)"],
  ["?", "This help"],
  ...DICOM_SHORTCUTS,
];

const HALF = Math.ceil(SHORTCUTS.length / 2);

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div class="modal-backdrop" onClick={onClose} data-testid="help">
      <div class="modal help" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <div class="help-cols">
          {[SHORTCUTS.slice(0, HALF), SHORTCUTS.slice(HALF)].map((rows, col) => (
            <table key={col}>
              <tbody>
                {rows.map(([k, d]) => (
                  <tr key={k}>
                    <td>
                      {k.split(" / ").map((part, i) => (
                        <span key={i}>
                          {i > 0 && " / "}
                          <kbd>{part}</kbd>
                        </span>
                      ))}
                    </td>
                    <td>{d}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </div>
        <div class="modal-actions">
          <button class="btn primary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
