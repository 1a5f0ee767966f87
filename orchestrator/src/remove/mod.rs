//! `orgtrail remove`: taking orgtrail's footprint back, in the order that keeps logging.
