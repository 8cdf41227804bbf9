console.log("rhodops control: placeholder");
