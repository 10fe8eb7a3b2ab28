internal import Crypto
internal import Hummingbird
internal import NIOCore

/// The portal's stylesheet and script, served from the binary under fixed paths (no CDN, no inline code).
struct PortalAssets {
    let path: String
    let response: Response

    init(path: String, contentType: String, text: String) {
        self.path = path
        var headers = Portal.securityHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = "\"" + SHA256.hash(data: Array(text.utf8)).prefix(12).map { String($0, radix: 16) }.joined() + "\""
        response = Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let all = [
        PortalAssets(path: "/assets/portal.css", contentType: "text/css; charset=utf-8", text: stylesheet),
        PortalAssets(path: "/assets/portal.js", contentType: "text/javascript; charset=utf-8", text: script),
        PortalAssets(path: "/assets/icon.svg", contentType: "image/svg+xml", text: icon),
        // Browsers ask for /favicon.ico whatever the page says.
        PortalAssets(path: "/favicon.ico", contentType: "image/svg+xml", text: icon),
    ]

    /// A key in a circle.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#0b57a4"/>\
        <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/>\
        <path d="M17 16h10m-3 0v4m-4-4v3" stroke="#fff" stroke-width="3"/></svg>
        """

    // Contrast: text #1b1f24 on #ffffff is 16:1, links #0b57a4 on white 7:1, buttons white on #0b57a4 7:1.
    static let stylesheet = """
        :root { --ink: #1b1f24; --muted: #4a5360; --line: #c9d1db; --accent: #0b57a4; --danger: #a4160b; --paper: #ffffff;
          --soft: #f3f6f9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
          outline: 3px solid #f0a500; outline-offset: 2px; }
        .skip { position: absolute; left: -9999px; }
        .skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem; z-index: 10; }
        .bar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1rem; background: var(--soft);
          border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; text-decoration: none; color: var(--ink); }
        nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--ink); border-bottom: 3px solid var(--accent); }
        .sign-out { margin-left: auto; display: flex; align-items: center; gap: .5rem; }
        .who { color: var(--muted); }
        main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
        label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
        label.inline { display: inline-block; font-weight: 400; margin-right: 1rem; }
        input, select, textarea { font: inherit; color: var(--ink); padding: .4rem .5rem; border: 1px solid #6b7785; border-radius: 4px;
          max-width: 100%; }
        input:not([type=radio]):not([type=file]), textarea { width: 100%; }
        textarea { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9rem; }
        input[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--danger); border-width: 2px; }
        button, .button { display: inline-block; font: inherit; font-weight: 600; padding: .45rem 1rem; margin-top: .75rem; border: 0;
          border-radius: 4px; background: var(--accent); color: #ffffff; cursor: pointer; text-decoration: none; }
        button.danger { background: var(--danger); }
        .sign-out button { margin: 0; background: transparent; color: var(--accent); border: 1px solid var(--accent); padding: .25rem .75rem; }
        fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .75rem 0 0; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; background: var(--paper); }
        .card.danger { border-color: var(--danger); }
        .narrow { max-width: 32rem; }
        .hint { color: var(--muted); font-size: .95rem; }
        .notice { background: #e6f1fb; border-left: 4px solid var(--accent); padding: .5rem .75rem; }
        .notice.once { background: #fff4d6; border-left-color: #8a5a00; }
        .error, .field-error { color: var(--danger); font-weight: 600; }
        .error { background: #fdecea; border-left: 4px solid var(--danger); padding: .5rem .75rem; }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
        .filters label { margin-top: 0; }
        .filters > div { flex: 1 1 12rem; min-width: 0; }
        .filters > div:last-child { flex: 0 0 auto; }
        .filters input, .filters select { width: 100%; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        caption { text-align: left; color: var(--muted); padding: .25rem 0; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        td code { word-break: break-all; }
        td form button { margin: 0; padding: .2rem .6rem; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        .facts dt { font-weight: 600; }
        .facts dd { margin: 0; word-break: break-all; }
        .diff { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
        pre { white-space: pre-wrap; word-break: break-all; background: var(--soft); padding: .5rem; margin: 0; font-size: .85rem; }
        .secret { font-family: ui-monospace, monospace; }
        .pages { margin: 1rem 0; display: flex; gap: 1rem; }
        @media (max-width: 40rem) {
          .sign-out { margin-left: 0; }
          .diff { grid-template-columns: 1fr; }
          .facts { grid-template-columns: 1fr; }
          th, td { padding: .3rem; }
        }
        """

    /// Reads an uploaded key file into the text area instead of uploading it, and keeps a private key from
    /// leaving the browser: an OpenSSH or PuTTY private key is replaced by the public key it carries in the
    /// clear; any other private key stops the form with a request for the `.pub` file.
    static let script = #"""
        "use strict";
        (function () {
          const form = document.getElementById("import-form");
          if (!form) return;
          const area = document.getElementById("public-key");
          const file = document.getElementById("key-file");
          const note = document.getElementById("private-key-note");
          const flag = document.getElementById("public-half-only");

          function bytesOf(base64) {
            const text = atob(base64.replace(/\s+/g, ""));
            const bytes = new Uint8Array(text.length);
            for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            return bytes;
          }
          function base64Of(bytes) {
            let text = "";
            for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
            return btoa(text);
          }
          function readString(bytes, at) {
            if (at + 4 > bytes.length) throw new Error("truncated");
            const length = ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
            if (at + 4 + length > bytes.length) throw new Error("truncated");
            return { value: bytes.subarray(at + 4, at + 4 + length), next: at + 4 + length };
          }
          function ascii(bytes) { return String.fromCharCode.apply(null, Array.from(bytes)); }

          // openssh-key-v1: magic, cipher, kdf, kdf options, key count, then the first public key in the clear.
          function openSSHPublic(text) {
            const match = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
            if (!match) return null;
            const bytes = bytesOf(match[1]);
            const magic = "openssh-key-v1\0";
            if (ascii(bytes.subarray(0, magic.length)) !== magic) throw new Error("not an OpenSSH private key");
            let at = magic.length;
            for (let i = 0; i < 3; i++) at = readString(bytes, at).next;
            at += 4;
            const blob = readString(bytes, at).value;
            const type = ascii(readString(blob, 0).value);
            return type + " " + base64Of(blob);
          }

          // PuTTY .ppk: the key type on the first line, the comment, then Public-Lines lines of base64.
          function puttyPublic(text) {
            const lines = text.split(/\r?\n/);
            const head = /^PuTTY-User-Key-File-[23]: (\S+)$/.exec(lines[0] || "");
            if (!head) return null;
            let comment = "";
            for (let i = 1; i < lines.length; i++) {
              const commentLine = /^Comment: (.*)$/.exec(lines[i]);
              if (commentLine) comment = commentLine[1];
              const count = /^Public-Lines: (\d+)$/.exec(lines[i]);
              if (count) {
                const body = lines.slice(i + 1, i + 1 + Number(count[1])).join("");
                const blob = bytesOf(body);
                return head[1] + " " + base64Of(blob) + (comment ? " " + comment : "");
              }
            }
            throw new Error("no Public-Lines");
          }

          function looksPrivate(text) {
            return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /^PuTTY-User-Key-File-/.test(text.trim());
          }

          function say(text) { note.textContent = text; }

          // Returns false when the form must not be sent.
          function keepOnlyPublicHalf() {
            const text = area.value;
            if (!looksPrivate(text)) return true;
            let publicKey = null;
            try {
              publicKey = openSSHPublic(text) || puttyPublic(text);
            } catch (error) {
              publicKey = null;
            }
            if (publicKey) {
              area.value = publicKey;
              flag.value = "1";
              say("That was a private key. Only its public half is sent; the private key stays in this browser.");
              return true;
            }
            area.value = "";
            say("That is a private key whose public half this page cannot read. Nothing was sent: choose the matching .pub file instead.");
            return false;
          }

          file.addEventListener("change", function () {
            const chosen = file.files && file.files[0];
            if (!chosen) return;
            if (chosen.size > 65536) {
              say("That file is too large to be an SSH key.");
              file.value = "";
              return;
            }
            const reader = new FileReader();
            reader.onload = function () {
              area.value = String(reader.result);
              file.value = "";
              keepOnlyPublicHalf();
            };
            reader.readAsText(chosen);
          });
          area.addEventListener("change", keepOnlyPublicHalf);
          form.addEventListener("submit", function (event) {
            if (!keepOnlyPublicHalf()) event.preventDefault();
          });
        })();
        """#
}
