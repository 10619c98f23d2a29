//! Building images from a context (the Dockerfile's FROM lines rewritten
//! by the image map) and reading images: inspect, exists, history.

use super::*;

impl Engine {
    /// Builds an image from the folder `context` (its `Dockerfile`, FROM
    /// lines rewritten by `map`) with the legacy builder, tagged `tag`,
    /// with `labels` (and `seclab.dev/cache=false` unless `labels` says
    /// otherwise: a build FROM a stand-in would inherit its `true`); each
    /// line of the build's output goes to `progress`. Returns the image id.
    pub async fn build<F>(
        &self,
        context: &Path,
        tag: &str,
        labels: &BTreeMap<String, String>,
        map: &ImageMap,
        progress: F,
    ) -> Result<String, EngineError>
    where
        F: FnMut(String) + Send,
    {
        self.build_file(context, "Dockerfile", tag, labels, map, progress)
            .await
    }

    /// [`Engine::build`] with the Dockerfile at `dockerfile`, a path
    /// relative to the context.
    pub async fn build_file<F>(
        &self,
        context: &Path,
        dockerfile: &str,
        tag: &str,
        labels: &BTreeMap<String, String>,
        map: &ImageMap,
        mut progress: F,
    ) -> Result<String, EngineError>
    where
        F: FnMut(String) + Send,
    {
        let tar = tar_context_with(context, dockerfile, map)?;
        let mut labels: HashMap<String, String> =
            labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        // An image built FROM a stand-in inherits its `seclab.dev/cache=true`:
        // unless the caller asks for a cached image, say it is not one.
        labels
            .entry(labels::CACHE.to_owned())
            .or_insert_with(|| "false".to_owned());
        let opts = BuildImageOptionsBuilder::new()
            .dockerfile(dockerfile)
            .t(tag)
            .rm(true)
            .forcerm(true)
            .labels(&labels)
            .build();
        let mut stream = self.docker.build_image(
            opts,
            None,
            Some(bollard::body_full(bytes::Bytes::from(tar))),
        );
        let mut id = None;
        let mut last = String::new();
        while let Some(info) = stream.next().await {
            let info = info.map_err(|e| EngineError::Docker {
                what: format!("build {tag} from {}", context.display()),
                message: engine_message(&e),
            })?;
            if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    line.clone_into(&mut last);
                    progress(line.to_owned());
                }
            }
            if let Some(aux_id) = info.aux.and_then(|a| a.id) {
                id = Some(aux_id);
            }
        }
        match id {
            Some(id) => Ok(id),
            None => self
                .image_inspect(tag)
                .await?
                .and_then(|v| v.get("Id").and_then(Value::as_str).map(str::to_owned))
                .ok_or_else(|| EngineError::Docker {
                    what: format!("build {tag} from {}", context.display()),
                    message: format!("no image was made (last output: {last})"),
                }),
        }
    }

    /// The engine's image inspect output; `None` when there is no such image.
    pub async fn image_inspect(&self, reference: &str) -> Result<Option<Value>, EngineError> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => serde_json::to_value(&i)
                .map(Some)
                .map_err(|e| EngineError::Docker {
                    what: format!("inspect image {reference}"),
                    message: e.to_string(),
                }),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(EngineError::docker(
                format!("inspect image {reference}"),
                &e,
            )),
        }
    }

    /// Whether the engine has the image.
    pub async fn image_exists(&self, reference: &str) -> Result<bool, EngineError> {
        Ok(self.image_inspect(reference).await?.is_some())
    }

    /// The image's layers, newest first (`docker history`).
    pub async fn image_history(&self, reference: &str) -> Result<Vec<HistoryEntry>, EngineError> {
        let items = self
            .docker
            .image_history(reference)
            .await
            .map_err(|e| EngineError::docker(format!("history of image {reference}"), &e))?;
        Ok(items
            .into_iter()
            .map(|i| HistoryEntry {
                created_by: i.created_by,
                size: i.size,
                comment: i.comment,
                tags: i.tags,
            })
            .collect())
    }
}

/// The build context as a tar archive, its Dockerfile's FROM lines mapped.
#[cfg(test)]
pub(super) fn tar_context(context: &Path, map: &ImageMap) -> Result<Vec<u8>, EngineError> {
    tar_context_with(context, "Dockerfile", map)
}

/// The build context as a tar archive, the Dockerfile at `name` (relative
/// to the context) with its FROM lines mapped.
fn tar_context_with(context: &Path, name: &str, map: &ImageMap) -> Result<Vec<u8>, EngineError> {
    let io = |path: &Path, e: &dyn std::fmt::Display| EngineError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let dockerfile = context.join(name);
    let text = std::fs::read_to_string(&dockerfile).map_err(|e| io(&dockerfile, &e))?;
    let rewritten = map.rewrite_dockerfile(&text);
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = context.join(&rel);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, &e))?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let rel_path = rel.join(entry.file_name());
            let path = entry.path();
            if rel_path == Path::new(name) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| io(&path, &e))?;
            if kind.is_dir() {
                builder
                    .append_dir(&rel_path, &path)
                    .map_err(|e| io(&path, &e))?;
                stack.push(rel_path);
            } else {
                builder
                    .append_path_with_name(&path, &rel_path)
                    .map_err(|e| io(&path, &e))?;
            }
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_size(rewritten.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, name, rewritten.as_bytes())
        .map_err(|e| io(&dockerfile, &e))?;
    builder.into_inner().map_err(|e| io(context, &e))
}
