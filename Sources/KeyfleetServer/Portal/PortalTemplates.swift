/// The portal's Mustache templates, compiled into the binary. Every value goes through `{{name}}`, which
/// escapes `<`, `>`, `&`, `"` and `'`; no template uses the unescaped forms. Attribute values are always quoted.
enum PortalTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "error": error, "keys": keys, "key": key, "key-new": keyNew,
        "key-generated": keyGenerated, "tokens": tokens, "token-created": tokenCreated, "projects": projects,
        "project": project, "hosts": hosts, "host": host, "host-created": hostCreated, "clusters": clusters,
        "cluster": cluster, "audit": audit,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Keyfleet</title>
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/assets/portal.css">
        <script src="/assets/portal.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="bar">
        <a class="brand" href="/">Keyfleet</a>
        {{#signedIn}}
        <nav aria-label="Main">
        <ul>
        <li><a href="/keys"{{#navKeys}} aria-current="page"{{/navKeys}}>SSH keys</a></li>
        <li><a href="/projects"{{#navProjects}} aria-current="page"{{/navProjects}}>Projects</a></li>
        <li><a href="/hosts"{{#navHosts}} aria-current="page"{{/navHosts}}>Hosts</a></li>
        <li><a href="/clusters"{{#navClusters}} aria-current="page"{{/navClusters}}>Clusters</a></li>
        <li><a href="/audit"{{#navAudit}} aria-current="page"{{/navAudit}}>Audit log</a></li>
        <li><a href="/tokens"{{#navTokens}} aria-current="page"{{/navTokens}}>Tokens</a></li>
        </ul>
        </nav>
        <form class="sign-out" method="post" action="/sign-out">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{userName}}{{#readOnly}} (read-only){{/readOnly}}</span>
        <button type="submit">Sign out</button>
        </form>
        {{/signedIn}}
        </header>
        <main id="main">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert" id="page-error">{{error}}</p>{{/error}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        {{<layout}}{{$content}}
        <h1>Sign in</h1>
        <form method="post" action="/sign-in" class="card narrow">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
        <p class="hint">A token from <code>keyfleet token create</code>, or the administrator token the server printed on its first start.
        It stays on the server's side: this browser keeps only a session cookie.</p>
        <button type="submit">Sign in</button>
        </form>
        {{/content}}{{/layout}}
        """

    static let error = """
        {{<layout}}{{$content}}
        <h1>{{title}}</h1>
        <p><a href="/keys">See your keys</a>, or go back and try again.</p>
        {{/content}}{{/layout}}
        """

    static let keys = """
        {{<layout}}{{$content}}
        <h1>SSH keys</h1>
        {{#mayWrite}}<p><a class="button" href="/keys/new">Import or generate a key</a></p>{{/mayWrite}}
        <form method="get" action="/keys" class="filters" role="search" aria-label="Filter keys">
        <div><label for="q">Name or SHA256 fingerprint</label><input id="q" name="q" value="{{q}}"></div>
        <div><label for="owner">Owner (me, or a user's name)</label><input id="owner" name="owner" value="{{owner}}"></div>
        <div><label for="project">Project</label>
        {{#projectsListed}}<select id="project" name="project"><option value="">Any</option>
        {{#projects}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/projects}}
        </select>{{/projectsListed}}
        {{^projectsListed}}<input id="project" name="project_name" value="{{projectName}}" placeholder="a project's name">{{/projectsListed}}</div>
        <div><label for="type">Type</label>
        <select id="type" name="type"><option value="">Any</option>
        {{#types}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/types}}
        </select></div>
        <div><button type="submit">Filter</button></div>
        </form>
        <div class="table-wrap">
        <table>
        <caption>{{caption}}</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">SHA256 fingerprint</th><th scope="col">Comment</th>
        <th scope="col">Owner</th><th scope="col">Created</th><th scope="col">Expires</th></tr></thead>
        <tbody>
        {{#keys}}<tr><td><a href="/keys/{{id}}">{{name}}</a></td><td>{{type}}</td><td><code>{{fingerprint}}</code></td><td>{{comment}}</td>
        <td>{{owner}}</td><td>{{created}}</td><td>{{expires}}</td></tr>
        {{/keys}}
        {{^keys}}<tr><td colspan="7">No keys match.</td></tr>{{/keys}}
        </tbody>
        </table>
        </div>
        <nav aria-label="Pages" class="pages">{{#first}}<a href="{{first}}">First page</a>{{/first}} {{#next}}<a href="{{next}}" rel="next">Next
        page</a>{{/next}}</nav>
        {{/content}}{{/layout}}
        """

    static let key = """
        {{<layout}}{{$content}}
        <h1>Key {{name}}</h1>
        <dl class="facts">
        <dt>Type</dt><dd>{{type}}</dd>
        <dt>SHA256 fingerprint</dt><dd><code>{{fingerprint}}</code></dd>
        <dt>MD5 fingerprint</dt><dd><code>{{md5}}</code></dd>
        <dt>Comment</dt><dd>{{comment}}</dd>
        <dt>Owner</dt><dd>{{owner}}</dd>
        <dt>Created</dt><dd>{{created}} by {{createdBy}}</dd>
        <dt>Expires</dt><dd>{{expires}}</dd>
        </dl>
        <label for="public-key">Public key</label>
        <textarea id="public-key" readonly rows="3">{{publicKey}}</textarea>
        <h2>Hosts it reaches</h2>
        {{#reachesAny}}<ul>{{#reaches}}<li><a href="/hosts/{{hostID}}">{{host}}</a>, login <code>{{login}}</code>{{#keeps}}
        (another key record holds the same key, so this login keeps it){{/keeps}}</li>{{/reaches}}</ul>{{/reachesAny}}
        {{^reachesAny}}<p>It reaches no host now.</p>{{/reachesAny}}
        {{#mayDelete}}
        <form method="post" action="/keys/{{id}}/delete" class="card danger">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p>{{#reachesAny}}Deleting it takes it off the hosts above within a second, except where noted.{{/reachesAny}}
        {{^reachesAny}}Deleting it changes no host.{{/reachesAny}}
        It cannot be undone.</p>
        <button type="submit" class="danger">Delete key {{name}}</button>
        </form>
        {{/mayDelete}}
        {{/content}}{{/layout}}
        """

    static let keyNew = """
        {{<layout}}{{$content}}
        <h1>Add a key</h1>
        <section class="card" aria-labelledby="import-title">
        <h2 id="import-title">Import a public key</h2>
        <form method="post" action="/keys/import" enctype="multipart/form-data" id="import-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="public_half_only" value="" id="public-half-only">
        <label for="import-name">Name</label>
        <input id="import-name" name="name" value="{{import.name}}" required maxlength="64"{{#import.nameError}} aria-invalid="true"
        aria-describedby="import-name-error"{{/import.nameError}}>
        {{#import.nameError}}<p class="field-error" id="import-name-error">{{import.nameError}}</p>{{/import.nameError}}
        <label for="public-key">Public key (OpenSSH, RFC 4716, PKCS#8 or PEM, or a PuTTY .ppk)</label>
        <textarea id="public-key" name="public_key" rows="5" spellcheck="false"{{#import.keyError}} aria-invalid="true"
        aria-describedby="public-key-error"{{/import.keyError}}>{{import.publicKey}}</textarea>
        {{#import.keyError}}<p class="field-error" id="public-key-error">{{import.keyError}}</p>{{/import.keyError}}
        <p class="hint" id="private-key-note" role="status" aria-live="polite"></p>
        <label for="key-file">Or a file</label>
        <input id="key-file" name="key_file" type="file" accept=".pub,.ppk,.pem,text/plain">
        <label for="import-project">Project (empty: a personal key)</label>
        {{#projectsListed}}<select id="import-project" name="project"><option value="">Personal</option>
        {{#projects}}<option value="{{id}}"{{#importSelected}} selected{{/importSelected}}>{{name}}</option>{{/projects}}</select>{{/projectsListed}}
        {{^projectsListed}}<input id="import-project" name="project_name" value="{{import.projectName}}">{{/projectsListed}}
        {{#import.projectError}}<p class="field-error">{{import.projectError}}</p>{{/import.projectError}}
        <label for="import-expires">Expires on (UTC; empty: never)</label>
        <input id="import-expires" name="expires" type="date" value="{{import.expires}}">
        {{#import.expiresError}}<p class="field-error">{{import.expiresError}}</p>{{/import.expiresError}}
        <button type="submit">Import</button>
        </form>
        </section>
        <section class="card" aria-labelledby="generate-title">
        <h2 id="generate-title">Generate a key pair</h2>
        <p>The server makes the key, keeps only its public half, and offers the private key once as a download.</p>
        <form method="post" action="/keys/generate">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="generate-name">Name</label>
        <input id="generate-name" name="name" value="{{generate.name}}" required maxlength="64">
        {{#generate.nameError}}<p class="field-error">{{generate.nameError}}</p>{{/generate.nameError}}
        <label for="generate-type">Type and size</label>
        <select id="generate-type" name="type">
        <option value="ed25519">Ed25519</option><option value="ecdsa-256">ECDSA P-256</option><option value="ecdsa-384">ECDSA P-384</option>
        <option value="ecdsa-521">ECDSA P-521</option><option value="rsa-3072">RSA 3072</option><option value="rsa-4096">RSA 4096</option>
        </select>
        <label for="generate-comment">Comment</label>
        <input id="generate-comment" name="comment" value="{{generate.comment}}" maxlength="255">
        <label for="generate-project">Project (empty: a personal key)</label>
        {{#projectsListed}}<select id="generate-project" name="project"><option value="">Personal</option>
        {{#projects}}<option value="{{id}}">{{name}}</option>{{/projects}}</select>{{/projectsListed}}
        {{^projectsListed}}<input id="generate-project" name="project_name">{{/projectsListed}}
        <label for="generate-expires">Expires on (UTC; empty: never)</label>
        <input id="generate-expires" name="expires" type="date">
        <fieldset><legend>Private key file format</legend>
        <label class="inline"><input type="radio" name="format" value="openssh" checked> OpenSSH</label>
        <label class="inline"><input type="radio" name="format" value="ppk"> PuTTY .ppk</label>
        </fieldset>
        <label for="generate-passphrase">Passphrase for the private key file (optional)</label>
        <input id="generate-passphrase" name="passphrase" type="password" autocomplete="new-password">
        {{#generate.error}}<p class="field-error">{{generate.error}}</p>{{/generate.error}}
        <button type="submit">Generate</button>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    static let keyGenerated = """
        {{<layout}}{{$content}}
        <h1>Key {{name}} generated</h1>
        <p class="notice once" role="status"><strong>Shown once.</strong> Download the private key now: the server did not keep it,
        and no later page can show it again.</p>
        <p><a class="button" id="private-key-download" href="{{downloadURL}}" download="{{fileName}}">Download {{fileName}}</a></p>
        <dl class="facts">
        <dt>Type</dt><dd>{{type}}</dd>
        <dt>SHA256 fingerprint</dt><dd><code>{{fingerprint}}</code></dd>
        </dl>
        <label for="public-key">Public key</label>
        <textarea id="public-key" readonly rows="3">{{publicKey}}</textarea>
        <p><a href="/keys/{{id}}">See the key</a> · <a href="/keys">All keys</a></p>
        {{/content}}{{/layout}}
        """

    static let tokens = """
        {{<layout}}{{$content}}
        <h1>API tokens</h1>
        <div class="table-wrap">
        <table>
        <caption>Your tokens</caption>
        <thead><tr><th scope="col">Token</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">State</th><th
        scope="col">Action</th></tr></thead>
        <tbody>
        {{#tokens}}<tr><td><code>{{id}}</code>{{#current}} (this session){{/current}}</td><td>{{scope}}</td><td>{{created}}</td><td>{{state}}</td>
        <td>{{#mayRevoke}}<form method="post" action="/tokens/{{id}}/revoke"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" class="danger" aria-label="Revoke token {{id}}">Revoke</button></form>{{/mayRevoke}}</td></tr>
        {{/tokens}}
        </tbody>
        </table>
        </div>
        <section class="card" aria-labelledby="new-token">
        <h2 id="new-token">New token</h2>
        <form method="post" action="/tokens">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="scope">Scope</label>
        <select id="scope" name="scope"><option value="read-only">Read-only</option>{{#mayWrite}}<option
        value="read-write">Read-write</option>{{/mayWrite}}</select>
        <button type="submit">Create token</button>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    static let tokenCreated = """
        {{<layout}}{{$content}}
        <h1>Token created</h1>
        <p class="notice once" role="status"><strong>Shown once.</strong> Copy the secret now: the server keeps only its hash.</p>
        <label for="secret">Secret of token {{id}} ({{scope}})</label>
        <input id="secret" readonly value="{{secret}}" class="secret">
        <p><a href="/tokens">Back to the tokens</a></p>
        {{/content}}{{/layout}}
        """

    static let projects = """
        {{<layout}}{{$content}}
        <h1>Projects</h1>
        <div class="table-wrap">
        <table>
        <caption>Projects you belong to</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Members</th><th scope="col">Your role</th></tr></thead>
        <tbody>
        {{#projects}}<tr><td><a href="/projects/{{id}}">{{name}}</a></td><td>{{members}}</td><td>{{role}}</td></tr>{{/projects}}
        {{^projects}}<tr><td colspan="3">No projects.</td></tr>{{/projects}}
        </tbody>
        </table>
        </div>
        {{#mayWrite}}
        <section class="card" aria-labelledby="new-project">
        <h2 id="new-project">New project</h2>
        <form method="post" action="/projects">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="project-name">Name</label>
        <input id="project-name" name="name" required maxlength="64" value="{{newName}}">
        {{#nameError}}<p class="field-error">{{nameError}}</p>{{/nameError}}
        <button type="submit">Create project</button>
        </form>
        </section>
        {{/mayWrite}}
        {{/content}}{{/layout}}
        """

    static let project = """
        {{<layout}}{{$content}}
        <h1>Project {{name}}</h1>
        <h2>Members</h2>
        <div class="table-wrap">
        <table>
        <caption>Members of {{name}}</caption>
        <thead><tr><th scope="col">User</th><th scope="col">Role</th>{{#mayManage}}<th scope="col">Action</th>{{/mayManage}}</tr></thead>
        <tbody>
        {{#members}}<tr><td>{{userName}}</td><td>{{role}}</td>
        {{#mayManage}}<td><form method="post" action="/projects/{{projectID}}/members/{{user}}/remove"><input type="hidden" name="csrf"
        value="{{csrf}}">
        <button type="submit" class="danger" aria-label="Remove {{userName}}">Remove</button></form></td>{{/mayManage}}</tr>
        {{/members}}
        </tbody>
        </table>
        </div>
        {{#mayManage}}
        <section class="card" aria-labelledby="add-member">
        <h2 id="add-member">Add a member</h2>
        <p>Someone who is not a member yet is invited, and becomes a member when they accept; an administrator adds them at once.</p>
        <form method="post" action="/projects/{{id}}/members">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="member-name">User name</label>
        <input id="member-name" name="user" required maxlength="64">
        <label for="member-role">Role</label>
        <select id="member-role" name="role"><option value="member">Member</option><option value="viewer">Viewer</option><option
        value="owner">Owner</option></select>
        <button type="submit">Add</button>
        </form>
        </section>
        {{/mayManage}}
        <h2>Project keys</h2>
        <ul>{{#keys}}<li><a href="/keys/{{id}}">{{name}}</a> <code>{{fingerprint}}</code></li>{{/keys}}</ul>
        {{^keys}}<p>No project keys.</p>{{/keys}}
        <p><a href="/hosts?project={{id}}">Hosts of {{name}}</a> · <a href="/keys?project={{id}}">Keys of {{name}}</a></p>
        {{/content}}{{/layout}}
        """

    static let hosts = """
        {{<layout}}{{$content}}
        <h1>Hosts</h1>
        <div class="table-wrap">
        <table>
        <caption>{{caption}}</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Project</th><th scope="col">Cluster</th><th scope="col">Logins</th>
        <th scope="col">Agent last seen</th></tr></thead>
        <tbody>
        {{#hosts}}<tr><td><a
        href="/hosts/{{id}}">{{name}}</a></td><td>{{project}}</td><td>{{cluster}}</td><td>{{logins}}</td><td>{{lastSeen}}</td></tr>{{/hosts}}
        {{^hosts}}<tr><td colspan="5">No hosts.</td></tr>{{/hosts}}
        </tbody>
        </table>
        </div>
        <nav aria-label="Pages" class="pages">{{#next}}<a href="{{next}}" rel="next">Next page</a>{{/next}}</nav>
        {{#mayCreate}}
        <section class="card" aria-labelledby="new-host">
        <h2 id="new-host">New host</h2>
        <form method="post" action="/hosts">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="host-name">Name</label>
        <input id="host-name" name="name" required maxlength="64" value="{{form.name}}">
        <label for="host-project">Project</label>
        {{#projectsListed}}<select id="host-project" name="project">{{#ownedProjects}}<option value="{{id}}">{{name}}</option>{{/ownedProjects}}
        </select>{{/projectsListed}}
        {{^projectsListed}}<input id="host-project" name="project_name" required value="{{form.projectName}}">{{/projectsListed}}
        <label for="host-logins">Logins (separated by spaces)</label>
        <input id="host-logins" name="logins" value="{{form.logins}}" placeholder="ubuntu">
        <label for="host-address">Address (optional)</label>
        <input id="host-address" name="address" value="{{form.address}}">
        {{#formError}}<p class="field-error">{{formError}}</p>{{/formError}}
        <button type="submit">Create host</button>
        </form>
        </section>
        {{/mayCreate}}
        {{/content}}{{/layout}}
        """

    static let host = """
        {{<layout}}{{$content}}
        <h1>Host {{name}}</h1>
        <dl class="facts">
        <dt>Project</dt><dd><a href="/projects/{{projectID}}">{{project}}</a></dd>
        <dt>Cluster</dt><dd>{{#clusterID}}<a href="/clusters/{{clusterID}}">{{cluster}}</a>{{/clusterID}}{{^clusterID}}none{{/clusterID}}</dd>
        <dt>Address</dt><dd>{{address}}</dd>
        </dl>
        <h2>Who can log in, and why</h2>
        {{#logins}}
        <section class="login" aria-label="Login {{login}}">
        <h3>Login <code>{{login}}</code></h3>
        <p>{{rule}}</p>
        <ul>{{#keys}}<li><a href="/keys/{{id}}">{{name}}</a> of {{owner}} <code>{{fingerprint}}</code>{{#expires}}, until
        {{expires}}{{/expires}}</li>{{/keys}}</ul>
        {{^keys}}<p>Nobody can log in as {{login}}.</p>{{/keys}}
        </section>
        {{/logins}}
        <h2>Agent</h2>
        <dl class="facts">
        <dt>Enrolled</dt><dd>{{agent.enrolled}}</dd>
        <dt>Last seen</dt><dd>{{agent.lastSeen}}</dd>
        <dt>Version</dt><dd>{{agent.version}}</dd>
        <dt>Delivery</dt><dd>{{agent.delivery}}</dd>
        <dt>Applied</dt><dd>{{agent.applied}}</dd>
        {{#agent.error}}<dt>Last error</dt><dd>{{agent.error}}</dd>{{/agent.error}}
        </dl>
        <h3>Host keys it reported</h3>
        <ul>{{#hostKeys}}<li>{{type}} <code>{{fingerprint}}</code></li>{{/hostKeys}}</ul>
        {{^hostKeys}}<p>None reported yet.</p>{{/hostKeys}}
        {{#mayManage}}
        <form method="post" action="/hosts/{{id}}/enroll" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p>A new enrollment token and cloud-init user data for this host (the agent's current credential keeps working until it enrolls again).</p>
        <button type="submit">New enrollment token</button>
        </form>
        {{/mayManage}}
        {{/content}}{{/layout}}
        """

    static let hostCreated = """
        {{<layout}}{{$content}}
        <h1>Host {{name}}: enrollment</h1>
        <p class="notice once" role="status"><strong>Shown once.</strong> The enrollment token is in the user data below and is not shown again;
        it expires {{expires}}.</p>
        <label for="enrollment-token">Enrollment token</label>
        <input id="enrollment-token" readonly value="{{token}}" class="secret">
        <label for="user-data">cloud-init user data: paste it into the cloud console when you create the server</label>
        <textarea id="user-data" readonly rows="16" spellcheck="false">{{userData}}</textarea>
        <p><a class="button" href="{{userDataURL}}" download="{{fileName}}">Download {{fileName}}</a> · <a href="/hosts/{{id}}">See the host</a></p>
        {{/content}}{{/layout}}
        """

    static let clusters = """
        {{<layout}}{{$content}}
        <h1>Clusters</h1>
        <div class="table-wrap">
        <table>
        <caption>Clusters you can see</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Project</th><th scope="col">Cluster keys</th></tr></thead>
        <tbody>
        {{#clusters}}<tr><td><a href="/clusters/{{id}}">{{name}}</a></td><td>{{project}}</td><td>{{keys}}</td></tr>{{/clusters}}
        {{^clusters}}<tr><td colspan="3">No clusters.</td></tr>{{/clusters}}
        </tbody>
        </table>
        </div>
        <nav aria-label="Pages" class="pages">{{#next}}<a href="{{next}}" rel="next">Next page</a>{{/next}}</nav>
        {{/content}}{{/layout}}
        """

    static let cluster = """
        {{<layout}}{{$content}}
        <h1>Cluster {{name}}</h1>
        <p>Project <a href="/projects/{{projectID}}">{{project}}</a>.</p>
        <h2>Cluster keys</h2>
        <ul>{{#keys}}<li><a href="/keys/{{id}}">{{name}}</a></li>{{/keys}}</ul>
        {{^keys}}<p>No cluster keys: its hosts follow their project's keys unless a login says otherwise.</p>{{/keys}}
        <h2>Hosts, and who can log in</h2>
        {{#hosts}}
        <section class="login" aria-label="Host {{name}}">
        <h3><a href="/hosts/{{id}}">{{name}}</a></h3>
        {{#logins}}<p>Login <code>{{login}}</code>: {{rule}}. {{#keys}}{{name}} ({{owner}}){{^last}},
        {{/last}}{{/keys}}{{^keys}}nobody{{/keys}}</p>{{/logins}}
        </section>
        {{/hosts}}
        {{^hosts}}<p>No hosts in this cluster.</p>{{/hosts}}
        {{/content}}{{/layout}}
        """

    static let audit = """
        {{<layout}}{{$content}}
        <h1>Audit log</h1>
        <form method="get" action="/audit" class="filters" role="search" aria-label="Filter the audit log">
        <div><label for="actor">Actor (user name)</label><input id="actor" name="actor" value="{{actor}}"></div>
        <div><label for="object-type">Object type</label><select id="object-type" name="object_type"><option value="">Any</option>
        {{#objectTypes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/objectTypes}}</select></div>
        <div><label for="object">Object identifier</label><input id="object" name="object" value="{{object}}"></div>
        <div><label for="action">Action (key.create, or key. for all)</label><input id="action" name="action" value="{{action}}"></div>
        <div><label for="since">Since (UTC date)</label><input id="since" name="since" type="date" value="{{since}}"></div>
        <div><button type="submit">Filter</button></div>
        </form>
        <div class="table-wrap">
        <table>
        <caption>{{caption}}</caption>
        <thead><tr><th scope="col">#</th><th scope="col">When (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th
        scope="col">Object</th>
        <th scope="col">Change</th></tr></thead>
        <tbody>
        {{#entries}}<tr><td>{{sequence}}</td><td>{{at}}</td><td>{{actor}}</td><td><code>{{action}}</code></td><td>{{objectType}} {{objectName}}</td>
        <td>{{#hasChange}}<details><summary>Before and after</summary><div class="diff"><pre aria-label="Before">{{before}}</pre><pre
        aria-label="After">{{after}}</pre></div></details>{{/hasChange}}</td></tr>
        {{/entries}}
        {{^entries}}<tr><td colspan="6">No entries match.</td></tr>{{/entries}}
        </tbody>
        </table>
        </div>
        <nav aria-label="Pages" class="pages">{{#next}}<a href="{{next}}" rel="next">Older entries</a>{{/next}}</nav>
        {{/content}}{{/layout}}
        """
}
