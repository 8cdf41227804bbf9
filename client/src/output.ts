console.log("rhodops output: placeholder");
