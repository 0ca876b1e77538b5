"""Platform statistics for operators: daily rollups kept by a worker, read by the /admin/stats pages."""
