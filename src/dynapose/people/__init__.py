"""Several people in one video: found, followed and lifted one by one (:func:`predict_people`)."""
