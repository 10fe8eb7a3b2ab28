internal import KeyfleetAPI
internal import KeyfleetCore

extension Cluster {
    /// The cluster as the API shows it.
    var api: Components.Schemas.Cluster {
        Components.Schemas.Cluster(id: id.rawValue, project: project.rawValue, name: name, keys: keys.map(\.rawValue))
    }

    /// The cluster's strong entity tag.
    var entityTag: String { EntityTag.of(api) }
}
