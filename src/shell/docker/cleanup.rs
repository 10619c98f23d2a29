//! Removing what seclab made, by its labels only: a lab's containers,
//! volumes and images, or everything seclab's (never a cache image).

use super::*;

impl Engine {
    /// Removes the lab's containers (label `seclab.dev/lab=<lab>`, forced,
    /// with their anonymous volumes) and its volumes. Images are kept (see
    /// [`Engine::remove_lab_images`]).
    pub async fn remove_lab(&self, lab: &str) -> Result<Removed, EngineError> {
        self.remove_labelled(&format!("{}={lab}", labels::LAB), false)
            .await
    }

    /// Removes the images built for the lab (label `seclab.dev/lab=<lab>`),
    /// never a `seclab.dev/cache=true` one.
    pub async fn remove_lab_images(&self, lab: &str) -> Result<usize, EngineError> {
        self.remove_images(&format!("{}={lab}", labels::LAB)).await
    }

    /// Removes every container, volume and image seclab made (any
    /// `seclab.dev/lab` label), except `seclab.dev/cache` images.
    pub async fn remove_all_seclab(&self) -> Result<Removed, EngineError> {
        self.remove_labelled(labels::LAB, true).await
    }

    async fn remove_labelled(&self, filter: &str, images: bool) -> Result<Removed, EngineError> {
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&label_filter(filter.to_owned()))
            .build();
        let containers = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list containers", &e))?;
        // The engine filtered by label; each kind checks again before removing.
        let containers = containers
            .into_iter()
            .filter(|c| has_label(c.labels.as_ref(), labels::LAB))
            .filter_map(|c| c.id);
        let remove_container = |id: String| async move {
            let opts = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            self.docker.remove_container(&id, Some(opts)).await
        };
        let opts = ListVolumesOptionsBuilder::new()
            .filters(&label_filter(filter.to_owned()))
            .build();
        let volumes = self
            .docker
            .list_volumes(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list volumes", &e))?;
        let volumes = volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.labels.contains_key(labels::LAB))
            .map(|v| v.name);
        let remove_volume = |name: String| async move {
            self.docker
                .remove_volume(&name, None::<RemoveVolumeOptions>)
                .await
        };
        Ok(Removed {
            containers: remove_each("container", containers, remove_container).await?,
            volumes: remove_each("volume", volumes, remove_volume).await?,
            images: if images {
                self.remove_images(filter).await?
            } else {
                0
            },
        })
    }

    async fn remove_images(&self, filter: &str) -> Result<usize, EngineError> {
        let opts = ListImagesOptionsBuilder::new()
            .filters(&label_filter(filter.to_owned()))
            .build();
        let images = self
            .docker
            .list_images(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list images", &e))?;
        let ids = images
            .into_iter()
            .filter(|i| i.labels.contains_key(labels::LAB) && !is_cache(&i.labels))
            .map(|i| i.id);
        let remove_image = |id: String| async move {
            let opts = RemoveImageOptionsBuilder::new().force(true).build();
            self.docker
                .remove_image(&id, Some(opts), None)
                .await
                .map(|_| ())
        };
        remove_each("image", ids, remove_image).await
    }
}

/// Removes each of `items` (ids or names of one `kind`) with `remove`, one
/// at a time, and counts them; one the engine no longer has (removed
/// meanwhile) is skipped, any other error stops with its name.
async fn remove_each<F, Fut>(
    kind: &str,
    items: impl Iterator<Item = String>,
    remove: F,
) -> Result<usize, EngineError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), bollard::errors::Error>>,
{
    let mut n = 0;
    for item in items {
        match remove(item.clone()).await {
            Ok(()) => n += 1,
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(EngineError::docker(format!("remove {kind} {item}"), &e)),
        }
    }
    Ok(n)
}
