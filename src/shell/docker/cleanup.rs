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
        let mut removed = Removed::default();
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&label_filter(filter.to_owned()))
            .build();
        let containers = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list containers", &e))?;
        for c in containers {
            // The engine filtered by label; check again before removing.
            if !has_label(c.labels.as_ref(), labels::LAB) {
                continue;
            }
            if let Some(id) = c.id {
                self.force_remove(&id).await?;
                removed.containers += 1;
            }
        }
        let opts = ListVolumesOptionsBuilder::new()
            .filters(&label_filter(filter.to_owned()))
            .build();
        let volumes = self
            .docker
            .list_volumes(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list volumes", &e))?;
        for v in volumes.volumes.unwrap_or_default() {
            if !v.labels.contains_key(labels::LAB) {
                continue;
            }
            match self
                .docker
                .remove_volume(&v.name, None::<RemoveVolumeOptions>)
                .await
            {
                Ok(()) => removed.volumes += 1,
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(EngineError::docker(format!("remove volume {}", v.name), &e)),
            }
        }
        if images {
            removed.images = self.remove_images(filter).await?;
        }
        Ok(removed)
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
        let mut n = 0;
        for image in images {
            if !image.labels.contains_key(labels::LAB) || is_cache(&image.labels) {
                continue;
            }
            let opts = RemoveImageOptionsBuilder::new().force(true).build();
            match self.docker.remove_image(&image.id, Some(opts), None).await {
                Ok(_) => n += 1,
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    return Err(EngineError::docker(
                        format!("remove image {}", image.id),
                        &e,
                    ));
                }
            }
        }
        Ok(n)
    }
}
